/**
 * Passing a concurrency slot on when its holder ends (sdk/core/flow/gate.ts takes slots).
 *
 * The rule that makes the queue lose no wake-up: a waiting run enqueues before its last take, and a slot is only
 * ever freed by `passOn`, which looks at the queue again after freeing it. So a waiter whose last take found the key
 * full is seen by whoever frees a slot afterwards, and that one takes the slot on the waiter's behalf and wakes it.
 * Every step is one single-item conditional write: a hand-over moves a holder (the count never changes), a free
 * slot is taken for the queue head only while fewer than `maxRuns` are held.
 */
import type { FlowStore, RunRecord, SlotQueueEntry } from '../../ports.ts';
import { wakeRun, type ExecutorDeps } from '../executor.ts';
import { Priority } from './options.ts';

/** Queue position of a run: its priority (default LOW), then its age. */
export function queueEntry(run: RunRecord): SlotQueueEntry {
  return { runId: run.runId, priority: run.priority ?? Priority.LOW, createdAt: run.createdAt };
}

/** Bound on one pass (each round removes a queue item or frees the slot, so it ends long before). */
const MAX_ROUNDS = 10_000;
/** Queue items read at a time: concurrent releasers that find the head handed over already try the next ones. */
const LOOK_AHEAD = 5;

/**
 * A run ended: it leaves its rate limit's and its key's queues, and its slot goes to the first queued run (a hand-over, the run woken at
 * once); with none queued the slot is freed, and the queue looked at again. `maxRuns`: the key's limit (the
 * task's `concurrency.maxRuns`), for a free slot taken on a waiter's behalf.
 */
export async function release(run: RunRecord, deps: Pick<ExecutorDeps, 'backend'>, flow: FlowStore, maxRuns: number): Promise<void> {
  // A run that ended while waiting for a rate limit's refill leaves that queue too.
  if (run.flow?.rateQueued) await flow.dequeueRateWaiter(run.flow.rateQueued, queueEntry(run));
  const slot = run.flow?.slot;
  if (!slot) return;
  if (run.flow?.queued) await flow.dequeue(slot, queueEntry(run));
  await passOn(slot, run.runId, maxRuns, deps, flow);
}

/**
 * Gives `holder`'s slot (or, with no holder, any free slot) to the queue's head, one at a time, until the queue is
 * empty or the key is full. A head that ended while queued passes its slot on in its turn.
 */
export async function passOn(slot: string, holder: string | undefined, maxRuns: number, deps: Pick<ExecutorDeps, 'backend'>, flow: FlowStore): Promise<void> {
  // Concurrent releasers read the same head: each first claims a queue item (a conditional delete, one wins), and
  // a releaser whose claim failed tries the next item it read instead of reading the queue again.
  let heads: SlotQueueEntry[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (heads.length === 0) heads = (await flow.queueHead(slot, LOOK_AHEAD + 1)).filter((e) => e.runId !== holder).slice(0, LOOK_AHEAD);
    const next = heads.shift();
    if (!next) {
      if (holder === undefined) return;
      // Freed, then the queue looked at again: a run that queued after the look above found the key full.
      if (!(await flow.releaseSlot(slot, holder))) return;
      holder = undefined;
      continue;
    }
    if (!(await flow.dequeue(slot, next))) continue; // claimed by another releaser, or it left
    heads = [];
    let given = false;
    if (holder !== undefined) {
      const moved = await flow.transferSlot(slot, holder, next.runId);
      // 'to-present': it took a slot itself after queueing (its queue item was stale).
      if (moved === 'to-present') continue;
      given = moved === 'moved';
      // 'from-absent': not held (released already, or freed by a holder check): fill a free slot instead.
      if (!given) holder = undefined;
    }
    if (!given) {
      const taken = await flow.acquireSlot(slot, next.runId, maxRuns);
      if (taken.result === 'held') continue;
      if (taken.result === 'full') {
        // Back in the queue, then a last look (whoever frees a slot after this take sees it queued).
        await flow.enqueue(slot, next);
        const again = await flow.acquireSlot(slot, next.runId, maxRuns);
        if (again.result === 'full') return;
        await flow.dequeue(slot, next);
        // 'held': it took one itself, or another releaser gave it one (and wakes it).
        if (again.result === 'held') continue;
      }
    }
    // Woken, it finds its slot taken for it. One that ended while queued passes the slot on.
    if (await wakeRun(next.runId, deps)) {
      if (holder !== undefined) return;
      continue; // a free slot was filled: there may be more (several freed by a holder check)
    }
    holder = next.runId;
  }
  if (holder !== undefined) await flow.releaseSlot(slot, holder);
}
