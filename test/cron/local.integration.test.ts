/**
 * Cron on the embedded default (Durable.local: dynalite on disk, the client's in-process scheduler on the wall
 * clock), with per-second schedules (an internal test hook) instead of minute-long sleeps: after a restart no
 * tick runs twice and the ticks missed while the process was down are not caught up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Durable } from 'durable-tasks';
import { allowSecondsForTests } from '../../sdk/core/cron/expression.ts';
import { fireCronTick } from '../../sdk/core/cron/service.ts';

const dir = mkdtempSync(join(tmpdir(), 'durable-cron-'));
beforeAll(() => allowSecondsForTests(true));
afterAll(() => {
  allowSecondsForTests(false);
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(ran: { cron: string; tick: string }[]) {
  const durable = Durable.local({ dir, log: () => undefined });
  const task = durable.task({
    name: 'every-second',
    on: { cron: '* * * * * *' },
    fn: async (_input: unknown, ctx) => void ran.push({ cron: 'declared', tick: ctx.runId }),
  });
  const other = durable.task({ name: 'created', fn: async (input: { n: number }, ctx) => void ran.push({ cron: `created-${input.n}`, tick: ctx.runId }) });
  return { durable, task, other };
}

async function until(check: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

test('ticks every second, survives a restart without running a tick twice or catching up missed ones', async () => {
  const ran: { cron: string; tick: string }[] = [];
  const first = open(ran);
  await first.durable.crons.create(first.other, { name: 'made', expression: '* * * * * *', input: { n: 7 } });
  await until(() => ran.filter((r) => r.cron === 'declared').length >= 2 && ran.filter((r) => r.cron === 'created-7').length >= 2);
  await first.durable.close();
  const downFrom = Date.now();
  await sleep(2_500);
  const upAt = Date.now();
  const before = ran.length;
  const second = open(ran);
  // The created cron is in the table: it ticks again after the restart without being created again.
  await until(() => ran.slice(before).filter((r) => r.cron === 'declared').length >= 2 && ran.slice(before).filter((r) => r.cron === 'created-7').length >= 2);
  // Redelivering a tick that already ran (as a restart in the middle of a tick could) starts nothing.
  const firstTick = ran[0]!.tick;
  const [, name, iso] = /^cron:(.*):(\d{4}-.*Z)$/.exec(firstTick)!;
  expect(await fireCronTick(second.durable.engine, { cron: name!, tick: Date.parse(iso!) })).toBe(firstTick);
  await second.durable.idle();
  const list = await second.durable.crons.list();
  expect(list.map((c) => c.name)).toEqual(['every-second:* * * * * *', 'made']);
  await second.durable.close();

  const ids = ran.map((r) => r.tick);
  expect(new Set(ids).size).toBe(ids.length); // no tick ran twice
  for (const id of ids) expect(id).toMatch(/^cron:(every-second:\* \* \* \* \* \*|made):\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  // Nothing ticked while the process was down (the ticks of that window are not caught up after the restart).
  const tickTimes = ids.map((id) => Date.parse(id.slice(-24)));
  expect(tickTimes.filter((t) => t > downFrom && t < upAt - 1000)).toEqual([]);
  expect(ran.length).toBeGreaterThanOrEqual(8);
}, 60_000);
