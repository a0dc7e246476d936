/**
 * `durable replay [--entry FILE] HISTORY.json...`: replays recorded run histories (`durable runs export`)
 * against the tasks FILE defines, without any store: the check a user puts in CI before deploying new code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { UsageError, type Command } from '../command.ts';
import { DEFAULT_ENTRY } from './dev.ts';

export const replay: Command = {
  name: 'replay',
  usage: 'durable replay [--entry FILE] HISTORY.json|DIR...',
  summary: 'Replay recorded run histories against the tasks FILE defines: one line per file, exit 1 if any does not replay',
  details:
    "Each history (from `durable runs export` or durable.runs.export) is replayed against the task of the same name in\n" +
    "FILE's client, with no store and no side effects: step bodies never run. A DIR stands for the .json files in it.\n" +
    'Exit codes: 0 every history replays, 1 at least one does not (NonDeterminismError names the position), 2 usage.\n' +
    'FILE is loaded with DURABLE_DIR set to a scratch directory, so an entry like examples/worker.ts touches no local state.',
  options: { entry: { type: 'string' } },
  optionHelp: [`--entry FILE  the module that exports your client as \`durable\` (default ${DEFAULT_ENTRY})`],
  positionals: { min: 1, max: Number.POSITIVE_INFINITY, names: ['HISTORY.json'] },
  remote: false,
  async run(ctx) {
    const { io, style } = ctx;
    const files = await expand(ctx.positionals.map((p) => resolve(io.cwd, p)));
    const entryPath = resolve(io.cwd, typeof ctx.values.entry === 'string' ? ctx.values.entry : DEFAULT_ENTRY);
    const shown = (file: string) => relative(io.cwd, file) || file;
    const scratch = mkdtempSync(join(tmpdir(), 'durable-replay-'));
    io.env.DURABLE_DIR = scratch;
    const [{ loadEntry }, { replaySpec }, { parseHistory }, { TaskNotFoundError }] = await Promise.all([
      import('../server/entry.ts'),
      import('../../sdk/core/history/replay-history.ts'),
      import('../../sdk/core/history/format.ts'),
      import('../../sdk/core/errors.ts'),
    ]);
    const entry = await loadEntry(entryPath);
    let failed = 0;
    try {
      for (const file of files) {
        let history: ReturnType<typeof parseHistory> | undefined;
        try {
          history = parseHistory(await readFile(file, 'utf8'), shown(file));
          const spec = entry.durable.engine.registry.specFor(history.name);
          if (!spec) throw new TaskNotFoundError(history.name, `${shown(entryPath)} defines no task of that name`);
          await replaySpec(spec, history.name, history);
          if (ctx.json) ctx.print(JSON.stringify({ file: shown(file), ok: true, name: history.name, runId: history.runId }));
          else ctx.print(`${style.green('ok  ')}  ${shown(file)}  ${history.name} ${style.gray(history.runId)} (${history.entries.length} operations)`);
        } catch (thrown) {
          failed++;
          const error = thrown instanceof Error ? thrown : new Error(String(thrown));
          if (ctx.json) ctx.print(JSON.stringify({ file: shown(file), ok: false, ...(history ? { name: history.name, runId: history.runId } : {}), error: errorData(error) }));
          else ctx.print(`${style.red('FAIL')}  ${shown(file)}  ${error.name}: ${error.message}`);
        }
      }
    } finally {
      await entry.durable.close().catch(() => undefined);
      rmSync(scratch, { recursive: true, force: true });
    }
    if (!ctx.json) io.stderr.write(`${files.length - failed} of ${files.length} histories replay against ${shown(entryPath)}\n`);
    return failed ? 1 : 0;
  },
};

/** Files as given; a directory stands for the .json files directly in it, sorted. */
async function expand(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new UsageError(`no file or directory at ${path}`);
    if (!info.isDirectory()) {
      out.push(path);
      continue;
    }
    const json = (await readdir(path)).filter((name) => name.endsWith('.json')).sort();
    if (json.length === 0) throw new UsageError(`${path} holds no .json histories`);
    out.push(...json.map((name) => join(path, name)));
  }
  return out;
}

function errorData(error: Error): Record<string, unknown> {
  const data = error as Error & { position?: unknown; expected?: unknown; actual?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(data.position !== undefined ? { position: data.position, expected: data.expected, actual: data.actual } : {}),
  };
}
