import { describe, expect, it } from 'vitest';
import { createTestEnvironment } from 'durable-tasks/testing';
import { CronNotFoundError, InvalidDefinitionError } from 'durable-tasks';

describe('cron on the test environment (public API)', () => {
  it("advanceTime('1h') runs a */15 cron 4 times, at the virtual tick times", async () => {
    const env = await createTestEnvironment({ startTime: new Date('2030-01-01T00:00:00Z') });
    const ticks: string[] = [];
    env.durable.task({ name: 'sync', on: { cron: '*/15 * * * *' }, fn: async () => void ticks.push(env.now().toISOString()) });
    await env.advanceTime('1h');
    expect(ticks).toEqual(['2030-01-01T00:15:00.000Z', '2030-01-01T00:30:00.000Z', '2030-01-01T00:45:00.000Z', '2030-01-01T01:00:00.000Z']);
    const [cron] = await env.durable.crons.list();
    expect(cron).toMatchObject({ name: 'sync:*/15 * * * *', task: 'sync', expression: '*/15 * * * *', input: {} });
    expect(cron!.next).toEqual(new Date('2030-01-01T01:15:00Z'));
    // Exactly the contract's fields.
    expect(cron).toEqual({ name: 'sync:*/15 * * * *', task: 'sync', expression: '*/15 * * * *', input: {}, next: new Date('2030-01-01T01:15:00Z') });
    await expect(env.durable.crons.delete('missing')).rejects.toThrow(CronNotFoundError);
    // Typed tasks and workflows are accepted as they are.
    const typed = env.durable.durableTask({ name: 'typed', fn: async (input: { region: string }) => ({ region: input.region }) });
    const wf = env.durable.workflow<{ n: number }>({ name: 'typed-wf' });
    wf.task({ name: 'only', fn: async (input: { n: number }) => input.n });
    await env.durable.crons.create(typed, { name: 'typed-eu', expression: '0 * * * *', input: { region: 'eu' } });
    await env.durable.crons.create(wf, { name: 'typed-wf', expression: '0 * * * *', input: { n: 1 } });
    await env.advanceTime('1h');
    expect(await env.durable.runs.get('cron:typed-eu:2030-01-01T02:00:00.000Z')).toMatchObject({ status: 'SUCCEEDED', output: { region: 'eu' } });
    expect(await env.durable.runs.get('cron:typed-wf:2030-01-01T02:00:00.000Z')).toMatchObject({ status: 'SUCCEEDED', output: { only: 1 } });
    await env.close();
  });

  it('a malformed expression throws InvalidDefinitionError at definition, naming it', async () => {
    const env = await createTestEnvironment();
    for (const cron of ['0 0 * * * *', '61 * * * *', 'every day at noon', ['0 3 * * *', 'nope']]) {
      const bad = Array.isArray(cron) ? cron[1]! : cron;
      expect(() => env.durable.task({ name: `t-${bad}`, on: { cron }, fn: async () => 1 })).toThrow(InvalidDefinitionError);
      expect(() => env.durable.task({ name: `t2-${bad}`, on: { cron }, fn: async () => 1 })).toThrow(bad);
    }
    expect(() => env.durable.workflow({ name: 'w', on: { cron: '0 0 1 * MON' } })).toThrow(/day-of-month.*day-of-week.*EventBridge Scheduler/);
    const wf = env.durable.workflow({ name: 'w2' });
    expect(() => wf.task({ name: 'x', on: { cron: '0 0 * * *' }, fn: async () => 1 } as never)).toThrow(/put it on the workflow/);
    await env.close();
  });
});

describe('a hand-built backend without a CronStore', () => {
  it('still fires declared crons and keeps created ones in this process', async () => {
    const { Durable } = await import('durable-tasks');
    const { createMemoryBackend, VirtualClock } = await import('../../sdk/adapters/memory/index.ts');
    const { advanceVirtualTime } = await import('../../sdk/adapters/memory/virtual-clock.ts');
    const clock = new VirtualClock();
    const { crons: _none, ...backend } = createMemoryBackend(clock);
    const durable = new Durable({ backend, embeddedWorker: 'listen', cancelPollMs: 0, log: () => undefined });
    const seen: unknown[] = [];
    const t = durable.task({ name: 'bare', on: { cron: '0 * * * *' }, fn: async (input: unknown) => void seen.push(input) });
    await durable.crons.create(t, { name: 'made', expression: '30 * * * *', input: { n: 1 } });
    await advanceVirtualTime(clock, 3_600_000, () => durable.idle());
    expect(seen).toEqual([{ n: 1 }, {}]);
    expect((await durable.crons.list()).map((c) => c.name)).toEqual(['bare:0 * * * *', 'made']);
    await durable.close();
  });
});
