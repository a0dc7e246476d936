/**
 * What every CLI command gets: parsed arguments, the deployment API, and output streams with a style.
 */
import type { ParseArgsConfig } from 'node:util';
import type { DurableApi } from './api/types.ts';
import type { OutputStream, Style } from './output.ts';

export interface Io {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface CommandContext {
  io: Io;
  /** For stdout: colour only on a TTY with NO_COLOR unset. */
  style: Style;
  /** `--json`: machine-readable output on stdout. */
  json: boolean;
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  /** The deployment, created on first use (`--aws`: `Durable.fromEnv()`; otherwise the dev server at `--url`). */
  api(): DurableApi;
  /** Writes one line to stdout. */
  print(line: string): void;
}

export interface Command {
  /** `runs list`, `push`, ... */
  name: string;
  /** `durable push KEY [JSON] [--scope S]` */
  usage: string;
  summary: string;
  /** Extra paragraphs for `--help`. */
  details?: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Lines describing the command's own options, for `--help`. */
  optionHelp?: string[];
  positionals: { min: number; max: number; names: string[] };
  /** Whether the command talks to a deployment (and so takes --url / --aws). */
  remote: boolean;
  run(ctx: CommandContext): Promise<number>;
}

/** A mistake in the command line: exit code 2, with a hint to `--help`. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses a JSON command-line argument, naming it when it is malformed. */
export function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON (${(error as Error).message}); quote it for your shell, e.g. '{"id":"1"}'`);
  }
}

/** Reads all of stdin (for a `-` JSON argument). */
export async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON argument, `-` for stdin, or `fallback` when absent. */
export async function jsonArgument(ctx: CommandContext, index: number, what: string, fallback: unknown): Promise<unknown> {
  const raw = ctx.positionals[index];
  if (raw === undefined) return fallback;
  return parseJsonArgument(raw === '-' ? await readStdin(ctx.io.stdin) : raw, what);
}
