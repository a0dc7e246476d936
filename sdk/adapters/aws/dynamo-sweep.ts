/**
 * The sweep index (`gsi2`, keys only): every run the sweeper may have to look at carries
 * `gsi2pk = SWEEP#<shard>` and `gsi2sk` = a time (epoch ms) from which the sweeper must look at it, so
 * `sweepCandidates(now)` reads the keys with `gsi2sk <= now`, reads those runs (BatchGetItem) and keeps
 * the ones the exact predicate accepts (`isSweepCandidate`, adapters/shared/run-intents.ts: the runs a lease may
 * take). Terminal runs, and runs parked on events alone, carry neither attribute and stay out of the index.
 *
 * Why keys only: an index write is paid on every change of an indexed key **or projected attribute**. With
 * the run's status and lease projected, every lease cost an index write; keys only, a lease costs nothing
 * there, and the sweeper pays one eventually consistent read (0.5 RRU, $0.06 per million) per run it
 * looks at, which is only the runs whose key is already due.
 *
 * What the key must be: never later than the moment the run becomes a candidate (or a run whose worker died
 * would be stranded); as late as possible otherwise (each sweep reads every indexed run with a key <= now).
 * - QUEUED: 0.
 * - WAITING: 0 with a pending wake (`wake <> seen`); else its `wakeAt` (a timer); else not indexed: a run
 *   parked on events only needs the sweeper again only once it is woken, and the wake (one UpdateItem that
 *   sets the key to 0) puts it back. Rather than a far-future key: leaving the index costs one index write (a
 *   delete), moving to a far-future key two (a delete and a put), and the wake pays the same again.
 *   A timer due soon (within `holdMs`, see {@link SWEEP_HOLD_MS}) keeps the key the run had while running
 *   (always in the past, see RUNNING): moving it costs two index writes, holding it costs a read per sweep
 *   until the timer fires, cheaper for waits shorter than a few sweeps.
 * - RUNNING: any time <= its lease's end. A lease is taken only from a key already <= now (QUEUED: 0; WAITING
 *   pending: 0, or due: key <= `wakeAt` <= now; RUNNING with an expired lease: <= that lease's end, < now), and
 *   lease renewals only push the end later, so **a lease leaves the key as it is**: the sweeper sees the
 *   RUNNING run, and skips it until its lease expires.
 *
 * Why the key is kept right from a single `UpdateItem`: the store writes a run item only by intent (the port's
 * `lease`, `suspend`, `wake`, ...: sdk/ports/run-intents.ts), and each intent says where the key goes
 * ({@link sweepPlanFor}): a lease, heartbeat or replay-again leaves it; a suspend or retry sets it to the timer (or
 * holds an earlier one), or takes the run out when it waits on events alone; a wake, a cancel request or a queue
 * sets it to 0; a finish removes it. Nothing is guessed, so no second request repairs it. (The bundled stores'
 * low-level `updateRun`, which tests use to forge states, does not know the intent: it checks the returned item
 * and repairs the key when needed, see `DynamoRunStore.updateRun`.)
 */
import type { RunIntent, RunRecord } from '../../ports.ts';
import { isSweepCandidate } from '../shared/run-intents.ts';
import { expired, fromItem, type Item } from './dynamo-items.ts';
import { sweepShardPk } from './dynamo-keys.ts';
import { BATCH_GET_SIZE, compare, itemKey, type DynamoTable } from './dynamo-table.ts';
import { PARTITION_KEY, SORT_KEY, SWEEP_INDEX, SWEEP_INDEX_PARTITION_KEY, SWEEP_INDEX_SORT_KEY, SWEEP_READ_ATTRIBUTES } from './table-schema.ts';

/**
 * How long before its timer a parked run may keep an earlier sweep key (see the file comment). Holding
 * costs one sweep read per minute (0.5 RRU, $0.0625 per million); moving the key costs an index delete and
 * put (2 WRU, $1.25 per million): holding is cheaper for any wait under 20 one-minute sweeps. But every
 * held run is read by every sweep, so the hold also bounds the sweeper's work (runs parked per minute ×
 * the hold): 5 minutes keeps the short waits (backoffs, polling, rate limits) cheap and the sweeper light.
 */
export const SWEEP_HOLD_MS = 5 * 60_000;

/**
 * Where the sweep index should hold `run`: a sort key, or `undefined` when it must not be indexed. For a
 * RUNNING run any key up to this one is right too (see the file comment), and for a WAITING run whose
 * timer is due within the hold, any key up to its `wakeAt` ({@link acceptableSweepKey}).
 */
export function sweepKey(run: RunRecord): number | undefined {
  switch (run.status) {
    case 'QUEUED':
      return 0;
    case 'RUNNING':
      return run.leaseUntil ?? 0;
    case 'WAITING':
      return run.wake !== run.seen ? 0 : run.wakeAt;
    default:
      return undefined;
  }
}

/**
 * Whether the index key `actual` (undefined: not indexed) is right for `run` at `now`: the wanted key, or an
 * earlier one where that is allowed (a RUNNING run; a WAITING run whose timer is due within `holdMs`).
 */
export function acceptableSweepKey(run: RunRecord, actual: number | undefined, now: number, holdMs: number): boolean {
  const wanted = sweepKey(run);
  if (wanted === actual) return true;
  if (actual === undefined || wanted === undefined) return false;
  if (run.status === 'RUNNING') return actual <= Math.max(wanted, now);
  return run.status === 'WAITING' && run.wake === run.seen && actual <= wanted && wanted - now <= holdMs;
}

/**
 * A sort-key value computed by DynamoDB: a literal, or an attribute of the item with a fallback (`wakeAt`
 * when the patch leaves it alone; the key itself when an earlier key may be held).
 */
export type SweepOperand = { value: number } | { attribute: 'wakeAt' | 'gsi2sk'; fallback: number };

/** How one write of the run item moves the run in the sweep index. */
export type SweepPlan =
  | { type: 'keep' }
  | { type: 'remove' }
  /**
   * `withPartition`: also (re)write `gsi2pk`, needed when the run may be out of the index (a terminal run,
   * a run parked on events); only when the status is known to be non-terminal after the patch.
   */
  | { type: 'set'; key: SweepOperand; withPartition: boolean };

/** Where `intent` moves the run in the sweep index; `now` and `holdMs` decide whether a timer due soon keeps the key it has. */
export function sweepPlanFor(intent: RunIntent, now: number, holdMs = SWEEP_HOLD_MS): SweepPlan {
  switch (intent.type) {
    case 'lease':
    case 'heartbeat':
    case 'releaseLease':
    case 'expireLease':
    case 'replayAgain':
    case 'setFlow':
      // The key is already early enough for a RUNNING run (file comment).
      return { type: 'keep' };
    case 'suspend':
    case 'retry':
      // Leased (the condition names the owner), so the key is in the past; every resolution so far is seen.
      if (intent.wakeAt === undefined) return intent.type === 'suspend' ? { type: 'remove' } : { type: 'set', key: { value: 0 }, withPartition: true };
      if (intent.wakeAt - now <= holdMs) return { type: 'set', key: { attribute: SWEEP_INDEX_SORT_KEY, fallback: intent.wakeAt }, withPartition: true };
      return { type: 'set', key: { value: intent.wakeAt }, withPartition: true };
    case 'wake':
    case 'requestCancel':
    case 'queue':
      // A resolution is pending (or the run is QUEUED): 0. The run may have left the index (parked on events).
      return { type: 'set', key: { value: 0 }, withPartition: true };
    case 'finish':
    case 'cancelled':
      return { type: 'remove' };
  }
}

/**
 * Queries the sweep index (`gsi2sk <= now`, keys only) of each shard in parallel, reads those runs with
 * eventually consistent BatchGetItems (100 keys each) and keeps the ones `isSweepCandidate` accepts, most
 * overdue first. The index is eventually consistent: a run that just became due may show up
 * one sweep later. Running runs (a lease leaves their key in the past) and runs holding an early key
 * before a short timer (dynamo-sweep.ts) are read too, and filtered out until they are due.
 *
 * The records carry `SWEEP_READ_ATTRIBUTES` only: `runId`, `name`, `status`, `createdAt`, `updatedAt`,
 * `attempt`, `wake`, `seen`, `leaseUntil`, `wakeAt`, `ttl` — everything the sweeper and `recover()` read.
 * Read the run (`getRun`) for the rest.
 */
export async function readSweepCandidates(table: DynamoTable, now: number, limit: number): Promise<RunRecord[]> {
  if (limit <= 0) return [];
  const clock = table.now();
  const shards = await Promise.all(
    Array.from({ length: table.shards.sweep }, async (_, shard) => {
      const found: { due: number; run: RunRecord }[] = [];
      let page: { due: number; key: Item }[] = [];
      const flush = async () => {
        const due = new Map(page.map((p) => [p.key[PARTITION_KEY]!.S!, p.due]));
        for (const item of await table.batchGet(page.map((p) => p.key), [PARTITION_KEY, ...SWEEP_READ_ATTRIBUTES])) {
          const { [PARTITION_KEY]: pk, ...attributes } = item;
          const run = fromItem<RunRecord>(attributes);
          if (!expired(run.ttl, clock) && isSweepCandidate(run, now)) found.push({ due: due.get(pk!.S!) ?? 0, run });
        }
        page = [];
      };
      for await (const entry of table.query({
        IndexName: SWEEP_INDEX,
        KeyConditionExpression: '#pk = :pk AND #sk <= :now',
        ExpressionAttributeNames: { '#pk': SWEEP_INDEX_PARTITION_KEY, '#sk': SWEEP_INDEX_SORT_KEY },
        ExpressionAttributeValues: { ':pk': { S: sweepShardPk(shard) }, ':now': { N: String(now) } },
      })) {
        page.push({ due: Number(entry[SWEEP_INDEX_SORT_KEY]?.N ?? 0), key: itemKey(entry[PARTITION_KEY]!.S!, entry[SORT_KEY]!.S!) });
        if (page.length >= BATCH_GET_SIZE) await flush();
        if (found.length >= limit) break;
      }
      if (page.length && found.length < limit) await flush();
      return found;
    }),
  );
  return shards
    .flat()
    .sort((a, b) => a.due - b.due || compare(a.run.runId, b.run.runId))
    .slice(0, limit)
    .map((c) => c.run);
}
