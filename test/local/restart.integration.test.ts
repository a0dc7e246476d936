import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'durable-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(mode: 'start' | 'resume' | 'start-mid-step' | 'resume-mid-step' | 'crash' | 'resume-fork', until: RegExp, state = 'state', fixture = 'restartable.ts'): Promise<{ line: string; kill(): void; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `test/local/fixtures/${fixture}`, join(dir, state), mode === 'resume-fork' ? 'resume' : mode, join(dir, `${state}.log`)], {
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
  expect(readFileSync(join(dir, 'state.log'), 'utf8')).toBe('before\nafter\n');
  expect(Date.now() - started).toBeLessThan(20_000);
}, 60_000);

test('killing the process inside a step of a run handed to the worker in-process (no SQS message) loses nothing and records each step once', async () => {
  const first = await run('start-mid-step', /^IN-STEP /, 'mid-step');
  expect(first.line).toBe('IN-STEP 0'); // its dispatch never went through SQS
  first.kill();
  await first.exited;
  const second = await run('resume-mid-step', /^RESULT /, 'mid-step');
  expect(second.line).toBe('RESULT {"done":true} ["a","b","c"]');
  expect(await second.exited).toBe(0);
  // b was killed before its outcome was recorded, so it ran again (at least once); a and c ran once.
  expect(readFileSync(join(dir, 'mid-step.log'), 'utf8')).toBe('a\nb\nb\nc\n');
}, 60_000);

test('killing the process in the middle of a fork\'s journal copy leaves no run behind; forking again runs only from the step', async () => {
  const first = await run('crash', /^CRASHING /, 'fork', 'fork-crash.ts');
  expect(await first.exited).toBe(null); // SIGKILL, inside the copy
  const second = await run('resume-fork', /^RESULT /, 'fork', 'fork-crash.ts');
  expect(JSON.parse(second.line.slice('RESULT '.length))).toEqual({ runsBefore: ['FAILED'], output: 'fixed', forkedFrom: true });
  expect(await second.exited).toBe(0);
  // a and b once over both processes and both runs; c once in the failed run, once in the fork.
  expect(readFileSync(join(dir, 'fork.log'), 'utf8')).toBe('a\nb\nc\nc\n');
}, 60_000);
