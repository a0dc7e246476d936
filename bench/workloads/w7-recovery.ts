/**
 * W7: a killed run resumes after a restart. A child process on the embedded default runs a task to its
 * second step and is killed there (SIGKILL, mid-step); a new process opens the same directory. Reported:
 * time from the new process's start to the first step it runs for that run. (DBOS's figure for the same:
 * about 1.6 s.) Embedded default only; skipped in quick mode (it can take a lease length).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from '../lib/stats.ts';
import { figure, type BenchOptions, type Row } from '../lib/types.ts';

const CHILD = fileURLToPath(new URL('./recovery-child.ts', import.meta.url));
const LIMIT_MS = 150_000;

function launch(phase: 'start' | 'restart', dir: string) {
  // `node --import tsx` (not the tsx CLI, which forks a second process a kill would miss).
  const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', CHILD, phase, dir], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      lines.push(line);
      for (const w of waiters.filter((x) => line.startsWith(x.prefix))) w.resolve(line);
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const waitFor = (prefix: string, timeoutMs: number) =>
    new Promise<number>((resolve, reject) => {
      const found = lines.find((l) => l.startsWith(prefix));
      if (found) return resolve(Number(found.split(' ').pop()));
      const timer = setTimeout(() => reject(new Error(`W7: no '${prefix}' from the ${phase} process within ${timeoutMs} ms. stderr: ${stderr.slice(-500)}`)), timeoutMs);
      waiters.push({ prefix, resolve: (line) => (clearTimeout(timer), resolve(Number(line.split(' ').pop()))) });
      child.once('exit', (code) => reject(new Error(`W7: ${phase} process exited (${code}) before '${prefix}'. stderr: ${stderr.slice(-500)}`)));
    });
  return { child, waitFor };
}

function kill(child: ChildProcess) {
  if (child.exitCode === null && child.pid) child.kill('SIGKILL');
}

export async function w7(options: BenchOptions): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'durable-bench-w7-'));
  const first = launch('start', dir);
  try {
    await first.waitFor('STEP b', 60_000);
    kill(first.child);
    await new Promise((r) => first.child.once('exit', r));
    const second = launch('restart', dir);
    try {
      const started = await second.waitFor('STARTED', 30_000);
      const ready = await second.waitFor('READY', 30_000);
      const step = await second.waitFor('STEP b', LIMIT_MS);
      options.log(`  W7: restart → step b after ${step - started} ms (local servers ready after ${ready - started} ms)`);
      return {
        workload: 'W7',
        system: 'embedded',
        figures: [figure('killed run: restart → first step', round(step - started), 'ms'), figure('of which start-up (servers ready)', round(ready - started), 'ms')],
        notes: ['process killed (SIGKILL) inside step b; a new process opens the same directory; time from its start to step b running again'],
      };
    } finally {
      kill(second.child);
    }
  } finally {
    kill(first.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
