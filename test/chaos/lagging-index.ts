/**
 * A sweep index that lags, as DynamoDB's GSIs do (eventually consistent reads; on AWS an index usually trails its
 * table by well under a second, but nothing bounds it). `sweepCandidates` answers from a snapshot taken by an
 * earlier sweep up to `maxLagMs` ago: runs that just became stranded are missing, and runs that stopped being
 * stranded (leased, parked anew, finished) are still there, with their old records. The engine must not depend on
 * the sweeper seeing the present: a stale candidate is a redundant dispatch that the lease condition refuses, and a
 * missing one is found by a later sweep.
 */
import type { Clock, RunRecord, RunStore } from '../../sdk/ports.ts';
import { delegatingStore } from '../support/env.ts';
import type { Random } from './random.ts';

export interface LaggingIndexStats {
  /** Sweeps answered with a snapshot older than the present. */
  stale: number;
  fresh: number;
}

export function laggingSweepIndex(store: RunStore, clock: Clock, random: Random, maxLagMs = 90_000, stats: LaggingIndexStats = { stale: 0, fresh: 0 }): RunStore {
  const history: { at: number; runs: RunRecord[] }[] = [];
  return delegatingStore(store, {
    sweepCandidates: async (now, limit) => {
      const present = await store.sweepCandidates(now, limit);
      const at = clock.now();
      history.push({ at, runs: present });
      while (history.length > 1 && history[0]!.at < at - maxLagMs) history.shift();
      const pick = history[random.int(0, history.length - 1)]!;
      if (pick.at === at) stats.fresh++;
      else stats.stale++;
      return pick.runs.slice(0, limit).map((r) => structuredClone(r));
    },
  });
}
