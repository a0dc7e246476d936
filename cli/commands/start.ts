/**
 * `durable start NAME [JSON]`.
 */
import { jsonArgument, type Command } from '../command.ts';
import { followRun } from './tail.ts';

export const start: Command = {
  name: 'start',
  usage: 'durable start NAME [JSON] [--tail]',
  summary: 'Start a run of a task or workflow by name (dev server only: it needs the definitions)',
  details: "JSON is the input (default {}); pass - to read it from stdin. Example: durable start simple-durable '{\"id\":\"1\"}' --tail",
  options: { tail: { type: 'boolean' } },
  optionHelp: ['--tail   follow the run until it ends (exit code as `durable tail`)'],
  positionals: { min: 1, max: 2, names: ['NAME', 'JSON'] },
  remote: true,
  async run(ctx) {
    const name = ctx.positionals[0]!;
    const input = await jsonArgument(ctx, 1, 'the input', {});
    const api = ctx.api();
    const { runId } = await api.start(name, input);
    if (ctx.json) ctx.print(JSON.stringify({ runId }));
    else ctx.print(`started ${ctx.style.bold(name)} ${ctx.style.gray(runId)}${ctx.values.tail ? '' : ctx.style.dim(`  (follow it: durable tail ${runId})`)}`);
    return ctx.values.tail ? followRun(ctx, api, runId) : 0;
  },
};
