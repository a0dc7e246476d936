// `durable dev` from the installed package's bin with no loader: serves a JavaScript entry (API + dashboard), and
// names tsx when given a TypeScript entry.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const bin = 'node_modules/.bin/durable';
const dev = spawn(bin, ['dev', '--entry', 'dev-entry.mjs', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
const url = await new Promise((ok, fail) => {
  const timer = setTimeout(() => fail(new Error(`durable dev printed no URL: ${out}`)), 60_000);
  dev.stdout.on('data', (chunk) => {
    out += chunk;
    const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
    if (m) (clearTimeout(timer), ok(m[0]));
  });
  dev.once('exit', (code) => fail(new Error(`durable dev exited ${code}: ${out}`)));
});
try {
  const started = await (await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'hello', input: { name: 'Ada' } }) })).json();
  const page = await (await fetch(`${url}/`)).text();
  if (!started.runId || !page.includes('<html')) throw new Error(`unexpected answers: ${JSON.stringify(started)}`);
  console.log(`dev.mjs: durable dev served ${url} (run ${started.runId} started, dashboard ${page.length} bytes)`);
} finally {
  dev.kill('SIGTERM');
}
writeFileSync('entry.ts', 'export const x: number = 1;\n');
const ts = spawnSync(bin, ['dev', '--entry', 'entry.ts', '--port', '0'], { encoding: 'utf8', timeout: 60_000 });
if (ts.status === 0 || !ts.stderr.includes('npm install -D tsx')) throw new Error(`a .ts entry without tsx: ${ts.status} ${ts.stderr}`);
console.log('dev.mjs: a TypeScript entry without tsx is refused with the install hint');
