/**
 * `durable crons list | create | delete`.
 */
import type { CronJson } from '../api/crons.ts';
import { jsonArgument, type Command } from '../command.ts';
import { colourStatus, preview, type Style } from '../output.ts';

export const cronsList: Command = {
  name: 'crons list',
  usage: 'durable crons list',
  summary: 'List crons (created and declared with on: { cron }): task, expression, next tick (UTC), latest runs',
  options: {},
  positionals: { min: 0, max: 0, names: [] },
  remote: true,
  async run(ctx) {
    const crons = await ctx.api().listCrons();
    if (ctx.json) ctx.print(JSON.stringify(crons));
    else ctx.io.stdout.write(formatCronsTable(crons, ctx.style));
    return 0;
  },
};

export const cronsCreate: Command = {
  name: 'crons create',
  usage: "durable crons create NAME TASK 'EXPRESSION' [JSON]",
  summary: 'Create a cron: each tick of EXPRESSION (five fields, UTC) starts one run of TASK with the input JSON',
  details: "JSON is the input of every run (default {}); pass - to read it from stdin. Example: durable crons create hourly-eu nightly-report '0 * * * *' '{\"region\":\"eu\"}'",
  options: {},
  positionals: { min: 3, max: 4, names: ['NAME', 'TASK', 'EXPRESSION', 'JSON'] },
  remote: true,
  async run(ctx) {
    const [name, task, expression] = ctx.positionals as [string, string, string];
    const input = await jsonArgument(ctx, 3, 'the input', {});
    const cron = await ctx.api().createCron({ name, task, expression, input });
    if (ctx.json) ctx.print(JSON.stringify(cron));
    else ctx.print(`created cron ${ctx.style.bold(cron.name)}: ${cron.expression} → ${cron.task}, next ${formatTime(cron.next)}`);
    return 0;
  },
};

export const cronsDelete: Command = {
  name: 'crons delete',
  usage: 'durable crons delete NAME',
  summary: 'Delete a created cron (a declared one is removed from the code); runs already started go on',
  options: {},
  positionals: { min: 1, max: 1, names: ['NAME'] },
  remote: true,
  async run(ctx) {
    const name = ctx.positionals[0]!;
    await ctx.api().deleteCron(name);
    if (ctx.json) ctx.print(JSON.stringify({ deleted: name }));
    else ctx.print(`deleted cron ${ctx.style.bold(name)}`);
    return 0;
  },
};

export const CRON_COMMANDS = [cronsList, cronsCreate, cronsDelete];

function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** The `crons list` table: one row per cron, its latest runs' statuses last. */
export function formatCronsTable(crons: readonly CronJson[], style: Style): string {
  if (crons.length === 0) return style.dim('no crons') + '\n';
  const rows = crons.map((c) => [c.name, c.task, c.expression, formatTime(c.next), c.declared ? 'declared' : preview(c.input, 40)]);
  const header = ['NAME', 'TASK', 'EXPRESSION', 'NEXT (UTC)', 'INPUT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  const last = (c: CronJson) => (c.lastRuns.length ? c.lastRuns.map((r) => colourStatus(r.status, style)).join(' ') : style.dim('no runs yet'));
  return [style.dim(`${line(header)}  LAST RUNS`), ...rows.map((row, i) => `${line(row)}  ${last(crons[i]!)}`)].join('\n') + '\n';
}
