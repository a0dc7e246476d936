/**
 * `durable runs list | get | cancel | fork | export`.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RUN_STATUSES, type RunStatus } from '../api/types.ts';
import { UsageError, type Command } from '../command.ts';
import { colourStatus, formatRunDetails, formatRunsTable } from '../output.ts';

export const runsList: Command = {
  name: 'runs list',
  usage: 'durable runs list [--status S] [--name N] [--limit N] [--cursor C] [--task-runs]',
  summary: 'List runs, newest first',
  options: { status: { type: 'string' }, name: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' }, 'task-runs': { type: 'boolean' } },
  optionHelp: [
    `--status S   only runs with this status (${RUN_STATUSES.join(', ')})`,
    '--name N     only runs of this task or workflow',
    '--limit N    at most N runs (default 100)',
    '--cursor C   the next page (the cursor the previous page printed on stderr)',
    '--task-runs  also list the runs of DAG tasks (hidden by default: their workflow run stands for them)',
  ],
  positionals: { min: 0, max: 0, names: [] },
  remote: true,
  async run(ctx) {
    const status = typeof ctx.values.status === 'string' ? ctx.values.status.toUpperCase() : undefined;
    if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
      throw new UsageError(`unknown status '${String(ctx.values.status)}'; use one of ${RUN_STATUSES.join(', ')}`);
    }
    let limit: number | undefined;
    if (typeof ctx.values.limit === 'string') {
      limit = Number(ctx.values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit must be a whole number from 1 to 1000, got '${ctx.values.limit}'`);
    }
    const runs = await ctx.api().listRuns({
      ...(status ? { status: status as RunStatus } : {}),
      ...(typeof ctx.values.name === 'string' ? { name: ctx.values.name } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(typeof ctx.values.cursor === 'string' ? { cursor: ctx.values.cursor } : {}),
      ...(ctx.values['task-runs'] === true ? {} : { taskRuns: false }),
    });
    if (ctx.json) ctx.print(JSON.stringify(runs));
    else ctx.io.stdout.write(formatRunsTable(runs, ctx.style));
    // On stderr, so `--json` output stays one array.
    if (runs.cursor !== undefined) ctx.io.stderr.write(`more runs: add --cursor ${runs.cursor}\n`);
    return 0;
  },
};

export const runsGet: Command = {
  name: 'runs get',
  usage: 'durable runs get RUN_ID',
  summary: "Show a run: status, input, output or error, DAG tasks, and its timeline of durable calls",
  options: {},
  positionals: { min: 1, max: 1, names: ['RUN_ID'] },
  remote: true,
  async run(ctx) {
    const run = await ctx.api().getRun(ctx.positionals[0]!);
    if (ctx.json) ctx.print(JSON.stringify(run));
    else ctx.io.stdout.write(formatRunDetails(run, ctx.style));
    return 0;
  },
};

export const runsCancel: Command = {
  name: 'runs cancel',
  usage: 'durable runs cancel RUN_ID',
  summary: 'Cancel a run (a parked run ends at once, a running one at its next durable call). Idempotent',
  options: {},
  positionals: { min: 1, max: 1, names: ['RUN_ID'] },
  remote: true,
  async run(ctx) {
    const run = await ctx.api().cancelRun(ctx.positionals[0]!);
    if (ctx.json) ctx.print(JSON.stringify(run));
    else ctx.print(`${run.status === 'CANCELLED' ? 'cancelled' : 'cancel requested for'} ${run.name} ${ctx.style.gray(run.runId)}: ${colourStatus(run.status, ctx.style)}`);
    return 0;
  },
};

export const runsFork: Command = {
  name: 'runs fork',
  usage: 'durable runs fork RUN_ID --from-step NAME [--idempotency-key KEY]',
  summary: 'Start a new run of the same task and input that keeps what the run recorded before the step NAME and re-executes from there',
  details:
    'The new run executes the current code (deploy or restart the fix first). Works on finished runs (SUCCEEDED, FAILED,\n' +
    'CANCELLED); cancel a run still in flight first. The new run\'s metadata.forkedFrom is RUN_ID.',
  options: { 'from-step': { type: 'string' }, 'idempotency-key': { type: 'string' } },
  optionHelp: [
    '--from-step NAME        the step to re-execute from (its first occurrence in the journal)',
    '--idempotency-key KEY   run again with the same KEY, it prints the fork the first call made instead of forking again',
  ],
  positionals: { min: 1, max: 1, names: ['RUN_ID'] },
  remote: true,
  async run(ctx) {
    const fromStep = ctx.values['from-step'];
    if (typeof fromStep !== 'string' || fromStep === '') throw new UsageError('runs fork needs --from-step NAME (the step to re-execute from)');
    const key = ctx.values['idempotency-key'];
    const fork = await ctx.api().forkRun(ctx.positionals[0]!, fromStep, typeof key === 'string' ? key : undefined);
    if (ctx.json) ctx.print(JSON.stringify(fork));
    else ctx.print(`forked ${ctx.style.gray(fork.forkedFrom)} from step '${fromStep}': new run ${fork.runId}`);
    return 0;
  },
};

export const runsExport: Command = {
  name: 'runs export',
  usage: 'durable runs export RUN_ID [--out FILE]',
  summary: "Write a run's recorded history (JSON, format 1) for replayHistory and `durable replay`",
  details: 'Prints the history on stdout, or writes it to FILE. Keep such files in the repository and replay them in CI\n' +
    '(`durable replay --entry worker.ts histories/*.json`) before deploying new code. The format is in the README ("Safe upgrades").',
  options: { out: { type: 'string' } },
  optionHelp: ['--out FILE  write the history to FILE instead of stdout'],
  positionals: { min: 1, max: 1, names: ['RUN_ID'] },
  remote: true,
  async run(ctx) {
    const history = await ctx.api().exportRun(ctx.positionals[0]!);
    const text = `${JSON.stringify(history, null, 2)}\n`;
    if (typeof ctx.values.out !== 'string') {
      ctx.io.stdout.write(text);
      return 0;
    }
    const file = resolve(ctx.io.cwd, ctx.values.out);
    await writeFile(file, text);
    if (ctx.json) ctx.print(JSON.stringify({ file, entries: history.entries.length }));
    else ctx.print(`wrote ${history.name} ${ctx.style.gray(history.runId)} (${history.entries.length} operations) to ${ctx.values.out}`);
    return 0;
  },
};
