/**
 * `durable push KEY [JSON]`.
 */
import { UsageError, jsonArgument, parseJsonArgument, type Command } from '../command.ts';

export const push: Command = {
  name: 'push',
  usage: "durable push KEY [JSON] [--scope S] [--metadata JSON]",
  summary: 'Push an event: waiting runs whose key, scope and CEL filter match resume; workflows listening on KEY start',
  details: "JSON is the payload (default {}); pass - to read it from stdin. Example: durable push order:paid '{\"amount\":120}' --scope tenant-a",
  options: { scope: { type: 'string' }, metadata: { type: 'string' } },
  optionHelp: ['--scope S        only waits registered with this scope match', '--metadata JSON  metadata recorded with the event'],
  positionals: { min: 1, max: 2, names: ['KEY', 'JSON'] },
  remote: true,
  async run(ctx) {
    const key = ctx.positionals[0]!;
    const payload = await jsonArgument(ctx, 1, 'the event payload', {});
    let metadata: Record<string, unknown> | undefined;
    if (typeof ctx.values.metadata === 'string') {
      const parsed = parseJsonArgument(ctx.values.metadata, '--metadata');
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('--metadata must be a JSON object');
      metadata = parsed as Record<string, unknown>;
    }
    const scope = typeof ctx.values.scope === 'string' ? ctx.values.scope : undefined;
    const result = await ctx.api().push(key, payload, { ...(scope !== undefined ? { scope } : {}), ...(metadata ? { metadata } : {}) });
    if (ctx.json) ctx.print(JSON.stringify(result));
    else ctx.print(`pushed ${ctx.style.bold(key)}${scope ? ` (scope ${scope})` : ''} ${ctx.style.gray(`event ${result.eventId}`)}`);
    return 0;
  },
};
