/**
 * `durable tail RUN_ID`: follows a run until it ends, printing each durable call as it is recorded (and each
 * `ctx.putStream` chunk, in stream order: `▸ stream #3 {...}`).
 * Exit code 0 if the run SUCCEEDED, 1 otherwise.
 */
import type { DurableApi, RunDetailsJson } from '../api/types.ts';
import type { Command, CommandContext } from '../command.ts';
import { Spinner, colourStatus, formatDuration, formatOperation, preview, runDuration } from '../output.ts';

export const tail: Command = {
  name: 'tail',
  usage: 'durable tail RUN_ID',
  summary: 'Follow a run until it ends, one line per durable call; exits 0 if it SUCCEEDED, 1 otherwise',
  details: 'With --json, prints one JSON object per line: {"type":"operation",...}, {"type":"task",...}, {"type":"status",...}, and last {"type":"end","run":{...}}.',
  options: {},
  positionals: { min: 1, max: 1, names: ['RUN_ID'] },
  remote: true,
  run: (ctx) => followRun(ctx, ctx.api(), ctx.positionals[0]!),
};

/** Prints a run's progress until it is terminal; resolves with the exit code. */
export async function followRun(ctx: CommandContext, api: DurableApi, runId: string): Promise<number> {
  const { style } = ctx;
  const ops = new Map<string, string>();
  const tasks = new Map<string, string>();
  let status = '';
  const started = Date.now();
  const spinner = new Spinner(ctx.io.stdout, !ctx.json && style.enabled);
  const emit = (line: string) => (ctx.json ? ctx.print(line) : spinner.print(line));

  const onUpdate = (run: RunDetailsJson) => {
    if (status === '' && !ctx.json) emit(`${style.bold(run.name)} ${style.gray(run.runId)}`);
    for (const op of chunksInStreamOrder(run.operations)) {
      const key = `${op.attempt}:${op.position}`;
      const signature = `${op.status}|${op.dueAt ?? ''}|${op.resolvedBy ?? ''}|${op.error?.message ?? ''}`;
      if (ops.get(key) === signature) continue;
      ops.set(key, signature);
      emit(ctx.json ? JSON.stringify({ type: 'operation', runId: run.runId, ...op }) : `  ${formatOperation(op, style)}`);
    }
    for (const task of run.tasks ?? []) {
      if (tasks.get(task.name) === task.status) continue;
      tasks.set(task.name, task.status);
      emit(ctx.json ? JSON.stringify({ type: 'task', runId: run.runId, ...task }) : `  ${style.cyan('task')} ${style.bold(task.name)} ${colourStatus(task.status, style)}`);
    }
    if (run.status !== status) {
      status = run.status;
      emit(ctx.json ? JSON.stringify({ type: 'status', runId: run.runId, status }) : `  ${style.dim('status')} ${colourStatus(status, style)}`);
    }
    spinner.update(`${colourStatus(status, style)} ${run.name} ${style.dim(formatDuration(Date.now() - started))}`);
  };

  let final: RunDetailsJson;
  try {
    final = await api.follow(runId, onUpdate);
  } finally {
    spinner.stop();
  }
  if (ctx.json) {
    ctx.print(JSON.stringify({ type: 'end', run: final }));
  } else {
    const took = formatDuration(runDuration(final));
    if (final.status === 'SUCCEEDED') ctx.print(`${colourStatus(final.status, style)} in ${took}${final.output !== undefined ? ` ${style.dim('→')} ${preview(final.output, 200)}` : ''}`);
    else ctx.print(`${colourStatus(final.status, style)} after ${took}${final.error ? `: ${style.red(`${final.error.name}: ${final.error.message}`)}` : ''}`);
  }
  return final.status === 'SUCCEEDED' ? 0 : 1;
}

/** The operations, with the stream chunks among them put in stream order (a branch's chunks sit at its positions). */
function chunksInStreamOrder(ops: RunDetailsJson['operations']): RunDetailsJson['operations'] {
  const chunks = ops.filter((op) => op.kind === 'stream').sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  let next = 0;
  return ops.map((op) => (op.kind === 'stream' ? chunks[next++]! : op));
}
