import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'durable-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(mode: 'start' | 'resume', until: RegExp): Promise<{ line: string; kill(): void; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/local/fixtures/restartable.ts', join(dir, 'state'), mode, join(dir, 'effects.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`no ${until} within 30 s; stdout: ${out}; stderr: ${err}`)), 30_000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => until.test(l));
      if (line) {
        clearTimeout(timer);
        resolve({ line, kill: () => child.kill('SIGKILL'), exited });
      }
    });
    child.on('exit', (code) => {
      if (!until.test(out)) reject(new Error(`exited ${code} before ${until}; stderr: ${err}`));
    });
  });
}

test('killing the process mid-sleep loses nothing: the next start resumes the run, each step ran once', async () => {
  const first = await run('start', /^PARKED /);
  first.kill();
  await first.exited;
  const started = Date.now();
  const second = await run('resume', /^RESULT /);
  expect(second.line).toBe('RESULT {"done":true}');
  expect(await second.exited).toBe(0);
  expect(readFileSync(join(dir, 'effects.log'), 'utf8')).toBe('before\nafter\n');
  expect(Date.now() - started).toBeLessThan(20_000);
}, 60_000);
