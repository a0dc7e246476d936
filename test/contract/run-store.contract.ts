/**
 * The RunStore contract: one suite, run against every implementation (memory, DynamoDB on dynalite), so they cannot
 * drift. Each test gets a fresh, empty store. The parts, by item family, are in test/contract/run-store/.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import { intentsContract } from './run-store/intents.contract.ts';
import { journalContract } from './run-store/journal.contract.ts';
import { runItemsContract } from './run-store/run-items.contract.ts';
import { sweepContract } from './run-store/sweep.contract.ts';
import { waitersEventsContract } from './run-store/waiters-events.contract.ts';
import type { CurrentStore, StoreUnderTest } from './run-store/fixtures.ts';

export { makeEntry, makeRun, makeWaiter, type StoreUnderTest } from './run-store/fixtures.ts';

export function runStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`RunStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    const current = {} as CurrentStore;
    beforeEach(async () => {
      subject = await makeStore();
      current.store = subject.store;
    });
    afterEach(async () => {
      await subject.close();
    });
    runItemsContract(current);
    intentsContract(current);
    journalContract(current);
    waitersEventsContract(current);
    sweepContract(current);
  });
}
