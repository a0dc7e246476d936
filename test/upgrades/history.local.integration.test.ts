/**
 * The same round trip on the embedded default (`Durable.local`, dynalite + fauxqs on disk): export a parked and
 * a finished run, write the JSON to a file, read it back and replay it without any store.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { Durable, NonDeterminismError } from 'durable-tasks';
import { replayHistory } from 'durable-tasks/testing';
import { CHECKOUT_OUTPUT, defineCheckout, type CheckoutKnobs } from './checkout-scenario.ts';

const dir = mkdtempSync(join(tmpdir(), 'durable-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('Durable.local: export → JSON file → replayHistory, for a parked and a finished run; a renamed step is caught', async () => {
  const durable = Durable.local({ dir: join(dir, 'state'), log: () => undefined });
  try {
    const knobs: CheckoutKnobs = { effects: 0 };
    const { checkout } = defineCheckout(durable, knobs);
    const ref = await checkout.runNoWait({ id: 'c1' });
    const parked = await until(
      () => durable.runs.export(ref.runId),
      (h) => h.entries.some((e) => e.kind === 'event' && e.status === 'pending'),
      'the run to park on its event',
    );
    await durable.events.push('paid', { id: 'c1', amount: 30 });
    expect(await ref.result()).toEqual(CHECKOUT_OUTPUT);
    const finished = await durable.runs.export(ref.runId);
    expect(finished.entries.map((e) => `${e.kind}:${e.name}:${e.status}`)).toEqual([
      'now::done',
      'step:price:done',
      'patch:express:done',
      'sleep::done',
      'event:paid:done',
      'step:charge-backup:failed',
      'child:receipt:done',
    ]);
    const files = { parked: join(dir, 'parked.json'), finished: join(dir, 'finished.json') };
    writeFileSync(files.parked, JSON.stringify(parked, null, 2));
    writeFileSync(files.finished, JSON.stringify(finished, null, 2));
    const effects = knobs.effects;
    for (const file of Object.values(files)) await expect(replayHistory(checkout, readFileSync(file, 'utf8'))).resolves.toBeUndefined();
    expect(knobs.effects).toBe(effects);
    knobs.renameStep = true;
    const error = await replayHistory(checkout, readFileSync(files.finished, 'utf8')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonDeterminismError);
    expect(error).toMatchObject({ position: 1, expected: "step('price')", actual: "step('price-v2')" });
  } finally {
    await durable.close();
  }
});
