/**
 * Cron on the virtual clock, one scenario set for every backend: the memory adapters (the test environment)
 * and the AWS adapters over dynalite + fauxqs (the table and queue Durable.local and production use), both
 * with the client's in-process scheduler firing ticks on the harness's virtual clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DurableError, InvalidDefinitionError } from 'durable-tasks';
import { CronAlreadyExistsError, CronNotFoundError } from '../../sdk/core/cron/errors.ts';
import { fireCronTick } from '../../sdk/core/cron/service.ts';
import type { Harness, HarnessFactory } from '../contract/harness.ts';

const MINUTE = 60_000;

export function cronContract(label: string, factory: HarnessFactory) {
  describe(`cron (${label})`, () => {
    let h: Harness;
    afterEach(async () => h?.close());

    async function cronRuns(name?: string) {
      const runs = await h.durable.runs.list({ limit: 1000 });
      const details = await Promise.all(runs.filter((r) => r.runId.startsWith('cron:')).map((r) => h.durable.runs.get(r.runId)));
      return details
        .filter((d) => (d.metadata as { cron?: string } | undefined)?.cron !== undefined)
        .filter((d) => name === undefined || (d.metadata as { cron: string }).cron === name)
        .sort((a, b) => String((a.metadata as { tick: string }).tick).localeCompare(String((b.metadata as { tick: string }).tick)));
    }

    it('runs a */15 declared cron 4 times in advanceTime(1h), each run with metadata { cron, tick }', async () => {
      h = await factory();
      const seen: string[] = [];
      h.durable.task({ name: 'quarterly', on: { cron: '*/15 * * * *' }, fn: async () => void seen.push(new Date(h.clock.now()).toISOString()) });
      await h.settle();
      await h.advance(60 * MINUTE);
      const runs = await cronRuns('quarterly:*/15 * * * *');
      expect(runs.map((r) => (r.metadata as { tick: string }).tick)).toEqual([
        '2030-01-01T00:15:00.000Z',
        '2030-01-01T00:30:00.000Z',
        '2030-01-01T00:45:00.000Z',
        '2030-01-01T01:00:00.000Z',
      ]);
      expect(runs.every((r) => r.status === 'SUCCEEDED')).toBe(true);
      expect(runs[0]!.metadata).toEqual({ cron: 'quarterly:*/15 * * * *', tick: '2030-01-01T00:15:00.000Z' });
      expect(runs[0]!.runId).toBe('cron:quarterly:*/15 * * * *:2030-01-01T00:15:00.000Z');
      expect(seen).toEqual(runs.map((r) => (r.metadata as { tick: string }).tick));
    });

    it('interleaves ticks with the timers of the runs they start, in order', async () => {
      h = await factory();
      const log: string[] = [];
      const at = () => new Date(h.clock.now()).toISOString().slice(11, 16);
      h.durable.durableTask({
        name: 'nap',
        on: { cron: '*/20 * * * *' },
        fn: async (_input: unknown, ctx) => {
          await ctx.step('start', async () => void log.push(`start ${at()}`));
          await ctx.sleepFor('25m');
          await ctx.step('end', async () => void log.push(`end ${at()}`));
        },
      });
      await h.settle();
      await h.advance(60 * MINUTE);
      expect(log).toEqual(['start 00:20', 'start 00:40', 'end 00:45', 'start 01:00']);
      await h.advance(30 * MINUTE);
      expect(log).toEqual(['start 00:20', 'start 00:40', 'end 00:45', 'start 01:00', 'end 01:05', 'start 01:20', 'end 01:25']);
    });

    it('crons.create / list / delete: created crons tick with their input; deleted ones stop', async () => {
      h = await factory();
      const inputs: unknown[] = [];
      const report = h.durable.task({ name: 'report', on: { cron: '0 3 * * *' }, fn: async (input: unknown) => void inputs.push(input) });
      await h.settle();
      const created = await h.durable.crons.create(report, { name: 'hourly-eu', expression: '0 * * * *', input: { region: 'eu' } });
      expect(created).toMatchObject({ name: 'hourly-eu', task: 'report', expression: '0 * * * *', input: { region: 'eu' } });
      const list = await h.durable.crons.list();
      expect(list.map((c) => ({ name: c.name, task: c.task, expression: c.expression, input: c.input, next: c.next.toISOString() }))).toEqual([
        { name: 'hourly-eu', task: 'report', expression: '0 * * * *', input: { region: 'eu' }, next: '2030-01-01T01:00:00.000Z' },
        { name: 'report:0 3 * * *', task: 'report', expression: '0 3 * * *', input: {}, next: '2030-01-01T03:00:00.000Z' },
      ]);
      await h.advance(2 * 60 * MINUTE);
      expect(inputs).toEqual([{ region: 'eu' }, { region: 'eu' }]);
      await h.durable.crons.delete('hourly-eu');
      expect((await h.durable.crons.list()).map((c) => c.name)).toEqual(['report:0 3 * * *']);
      await h.advance(2 * 60 * MINUTE);
      expect(inputs).toEqual([{ region: 'eu' }, { region: 'eu' }, {}]);
      expect((await cronRuns('hourly-eu')).map((r) => r.input)).toEqual([{ region: 'eu' }, { region: 'eu' }]);
    });

    it('workflows and durable tasks take on: { cron } too (an array gives one cron per expression)', async () => {
      h = await factory();
      const wf = h.durable.workflow({ name: 'nightly-wf', on: { cron: ['0 1 * * *', '30 1 * * *'] } });
      wf.task({ name: 'only', fn: async () => ({ ok: true }) });
      h.durable.durableTask({ name: 'dt', on: { cron: '45 0 * * *' }, fn: async () => 'done' });
      await h.settle();
      expect((await h.durable.crons.list()).map((c) => c.name)).toEqual(['dt:45 0 * * *', 'nightly-wf:0 1 * * *', 'nightly-wf:30 1 * * *']);
      await h.advance(2 * 60 * MINUTE);
      const runs = await cronRuns();
      expect(runs.map((r) => [r.name, r.status, (r.metadata as { tick: string }).tick])).toEqual([
        ['dt', 'SUCCEEDED', '2030-01-01T00:45:00.000Z'],
        ['nightly-wf', 'SUCCEEDED', '2030-01-01T01:00:00.000Z'],
        ['nightly-wf', 'SUCCEEDED', '2030-01-01T01:30:00.000Z'],
      ]);
      expect(runs[1]!.output).toEqual({ only: { ok: true } });
    });

    it('a tick delivered twice (or by two workers) starts one run', async () => {
      h = await factory();
      h.durable.task({ name: 'once', fn: async () => 'ok' });
      await h.durable.crons.create('once', { name: 'dup', expression: '0 0 * * *' });
      const tick = { cron: 'dup', tick: Date.UTC(2030, 0, 2) };
      const ids = await Promise.all([fireCronTick(h.durable.engine, tick), fireCronTick(h.durable.engine, tick), fireCronTick(h.durable.engine, tick)]);
      await h.settle();
      expect(new Set(ids)).toEqual(new Set(['cron:dup:2030-01-02T00:00:00.000Z']));
      expect((await cronRuns('dup')).map((r) => r.status)).toEqual(['SUCCEEDED']);
      // A tick of a cron that no longer exists starts nothing.
      await h.durable.crons.delete('dup');
      expect(await fireCronTick(h.durable.engine, { cron: 'dup', tick: Date.UTC(2030, 0, 3) })).toBeUndefined();
    });

    it('rejects bad input with typed errors', async () => {
      h = await factory();
      const t = h.durable.task({ name: 'target', on: { cron: '0 0 * * *' }, fn: async () => 'ok' });
      for (const expression of ['0 0 * * * *', '61 * * * *', 'every day at noon', '@daily', '0 0 31 2 *', '0 0 1 * 1']) {
        await expect(h.durable.crons.create(t, { name: `bad-${expression}`, expression })).rejects.toThrow(InvalidDefinitionError);
        await expect(h.durable.crons.create(t, { name: `bad-${expression}`, expression })).rejects.toThrow(expression);
      }
      await h.durable.crons.create(t, { name: 'dup', expression: '0 1 * * *' });
      await expect(h.durable.crons.create(t, { name: 'dup', expression: '0 2 * * *' })).rejects.toThrow(CronAlreadyExistsError);
      await expect(h.durable.crons.create(t, { name: 'target:0 0 * * *', expression: '0 2 * * *' })).rejects.toThrow(InvalidDefinitionError);
      await expect(h.durable.crons.delete('nope')).rejects.toThrow(CronNotFoundError);
      await expect(h.durable.crons.delete('target:0 0 * * *')).rejects.toThrow(/declared in code/);
      await expect(h.durable.crons.create(t, { name: 'big', expression: '0 1 * * *', input: { n: 1n } })).rejects.toThrow(DurableError);
      await expect(h.durable.crons.create(t, { name: 'fn', expression: '0 1 * * *', input: { f: () => 1 } })).rejects.toThrow(/function/);
      expect((await h.durable.crons.list()).map((c) => c.name)).toEqual(['dup', 'target:0 0 * * *']);
    });
  });
}
