/**
 * Shared set-up of the CLI tests: a test-environment client with the fixture definitions, served by the dev
 * server on a free port, and a runner for the real `durable` binary as a child process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../cli/main.ts';
import { createTestEnvironment, type TestEnvironment } from '../../sdk/testing/index.ts';
import { startDevServer, type DevServer } from '../../cli/index.ts';
import { defineFixtures } from './fixtures/definitions.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/durable.js', import.meta.url));

export interface Harness {
  env: TestEnvironment;
  server: DevServer;
  defs: ReturnType<typeof defineFixtures>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const env = await createTestEnvironment();
  const defs = defineFixtures(env.durable);
  const server = await startDevServer({ durable: env.durable, port: 0, pollMs: 25 });
  return {
    env,
    server,
    defs,
    async close() {
      await server.close();
      await env.close();
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/durable.js ...args` to completion, stdout and stderr piped (not a TTY). `env` adds to this
 * process's environment, unless `replaceEnv` is set.
 */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; replaceEnv?: boolean; input?: string } = {}): Promise<CliResult> {
  const env = options.replaceEnv ? options.env : { ...process.env, ...options.env };
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: REPO, env, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Starts `node bin/durable.js ...args` and returns the process (for `tail`, `dev`). */
export function spawnCli(args: string[], env?: NodeJS.ProcessEnv): ChildProcess & { output: () => string; exited: Promise<number> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return Object.assign(child, { output: () => out, exited });
}

/** Resolves once `predicate(output)` holds, polling; rejects after `ms`. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, ms = 10_000, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Runs the CLI's `main` in this process with captured output (quicker than a child process, for the
 * commands' logic; the binary itself is exercised with `runCli`).
 */
export async function runMain(args: string[], options: { env?: NodeJS.ProcessEnv; isTTY?: boolean } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const stream = (append: (text: string) => void) =>
    Object.assign(new Writable({ write: (chunk: Buffer, _enc, done) => (append(chunk.toString()), done()) }), { isTTY: options.isTTY ?? false });
  const code = await main(args, {
    stdout: stream((t) => (stdout += t)),
    stderr: stream((t) => (stderr += t)),
    stdin: Readable.from([]),
    env: options.env ?? {},
    cwd: REPO,
  });
  return { code, stdout, stderr };
}

export const ANSI = /\u001b\[/;
