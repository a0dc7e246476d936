/**
 * The one place a durable call's outcome is written into a run's journal (the items are described in
 * sdk/core/journal.ts and ARCHITECTURE.md, "Items"):
 *
 * - during a replay, a `JournalWriter`: `record` / `put` (first-wins entry items, carrying the entries only the run
 *   item holds), `hold` (a sleep's or a patch marker's entry, which rides on the park: the executor's suspend /
 *   finish writes `parked` onto the run item), `commitStep` (a step's outcome, or its retry state moved forward),
 *   `writeChunk` (a `ctx.putStream` chunk, whose item is its record: stream.ts);
 * - outside a replay: `recordWaitResolution` (the event router resolving a wait, router.ts),
 *   `recordChildOutcome` (a child's outcome in its parent's journal, executor.ts's notifyParent) and
 *   `recordForkedEntry` (a fork copying kept entries, fork/fork.ts).
 *
 * DAG gates write no journal entries (their waiters and task states are in dag/gates.ts and dag/context.ts).
 */
import type { ItemScope, JournalEntry, ParentLink, RunRecord, RunStore, Waiter } from '../../ports.ts';
import { DurableError, type serializeError } from '../errors.ts';
import { MAX_PARKED_ENTRIES } from '../journal.ts';
import { Fatal } from './host.ts';
import { StreamWriter } from './stream.ts';

/** The journal writes of one replay of one attempt. */
export class JournalWriter {
  /**
   * Entries recorded on the run item only (sleeps, patch markers: sdk/core/journal.ts): the next entry item carries
   * them, and whatever is left rides on the run item's next write (the outcome's `parked`).
   */
  private pending: JournalEntry[];
  private readonly stream: StreamWriter;

  constructor(
    private readonly store: RunStore,
    private readonly runId: string,
    private readonly attempt: number,
    /** The replay's journal by position (this attempt), which the writer keeps up to date. */
    private readonly entries: Map<number, JournalEntry>,
    loaded: { entries: readonly JournalEntry[]; parked: readonly JournalEntry[] },
  ) {
    this.pending = loaded.parked.filter((entry) => entry.attempt === attempt);
    this.stream = new StreamWriter(store, runId, loaded.entries, (chunk) => {
      // Recorded by a concurrent replay: when this one gets there, it answers from the journal.
      if (chunk.attempt === this.attempt && !this.entries.has(chunk.position)) this.entries.set(chunk.position, chunk);
    });
  }

  /** The entries only the run item holds now: they ride on the replay's outcome (`parked`). */
  get parked(): JournalEntry[] {
    return this.pending.slice();
  }

  /** Writes `entry` first-wins; returns the entry that holds the position, which later calls of this replay see. */
  async record(entry: JournalEntry): Promise<JournalEntry> {
    const { entry: winner } = await this.put(entry);
    // Later calls of this replay see it (e.g. which events earlier waits took).
    this.entries.set(winner.position, winner);
    return winner;
  }

  /**
   * `store.recordEntry`, carrying the entries only the run item holds (`pending`). Won: they are in an entry
   * item now. Lost: the winner's item may carry some of them; a copy that differs from what this replay
   * went on with means a replay that lost its lease raced the run's owner: this one stops (aborted, so the
   * message is retried) rather than go on from a history that is not the recorded one.
   */
  async put(entry: JournalEntry): Promise<{ won: boolean; entry: JournalEntry }> {
    const carried = this.pending.filter((e) => e.position !== entry.position);
    const result = await this.store.recordEntry(this.runId, entry, carried);
    const held = result.won ? [result.entry, ...carried] : [result.entry, ...result.carried];
    if (!result.won) {
      for (const copy of result.carried) {
        const mine = this.entries.get(copy.position);
        if (copy.attempt === this.attempt && mine && (mine.result !== copy.result || mine.dueAt !== copy.dueAt)) {
          throw new Fatal(new DurableError(`a concurrent replay recorded position ${copy.position} of run '${this.runId}' differently; replaying again`), false, true);
        }
      }
    }
    this.pending = this.pending.filter((e) => !held.some((h) => h.attempt === e.attempt && h.position === e.position));
    return result;
  }

  /**
   * Records `entry` on the run item only (see `pending`): no write of its own. Past `MAX_PARKED_ENTRIES` it is written
   * in an entry item after all: that write is returned (a sleep awaits it, a patch marker tracks it in the background).
   */
  hold(entry: JournalEntry): Promise<unknown> | undefined {
    this.entries.set(entry.position, entry);
    this.pending.push(entry);
    return this.pending.length > MAX_PARKED_ENTRIES ? this.put(entry) : undefined;
  }

  /** Records a step outcome: first-wins for a new position, or forward from the retrying state. */
  async commitStep(entry: JournalEntry, fromStepAttempt: number | undefined): Promise<JournalEntry> {
    if (fromStepAttempt === undefined) {
      const { won, entry: winner } = await this.put(entry);
      return won ? entry : winner;
    }
    const moved = await this.store.updateRetryingEntry(this.runId, entry, fromStepAttempt);
    if (moved) return entry;
    const reloaded = await this.store.loadRun(this.runId);
    const current = reloaded?.entries.find((e) => e.attempt === entry.attempt && e.position === entry.position);
    if (!current) throw new Fatal(new DurableError(`journal entry ${entry.position} vanished while retrying step '${entry.name}'`));
    return current;
  }

  /** Records a `ctx.putStream` chunk (a `stream` entry without `seq`, stream.ts); resolves with the entry that holds its position. */
  writeChunk(entry: JournalEntry): Promise<JournalEntry> {
    return this.stream.write(entry);
  }
}

/**
 * The router's resolution of a wait by one event leaf (router.ts): the wait's entry, first-wins, in the journal
 * of the incarnation that registered the waiter (a stale one's lands where no read looks).
 */
export function recordWaitResolution(
  store: RunStore,
  waiter: Waiter,
  payload: string,
  createdAt: number,
  eventId: string | undefined,
): Promise<{ won: boolean; entry: JournalEntry }> {
  const entry: JournalEntry = {
    attempt: waiter.attempt,
    position: waiter.position,
    kind: waiter.opKind,
    name: waiter.opName,
    status: 'done',
    result: `{${JSON.stringify(waiter.readableDataKey)}:${payload}}`,
    resolvedBy: waiter.readableDataKey,
    createdAt,
    ...(eventId !== undefined ? { eventIds: [eventId] } : {}),
  };
  if (waiter.generation !== undefined) entry.generation = waiter.generation;
  if (waiter.ttl !== undefined) entry.ttl = waiter.ttl;
  return store.recordEntry(waiter.runId, entry);
}

/** What a finished child tells its parent (executor.ts's notifyParent). */
export type ChildOutcome = { status: 'SUCCEEDED'; output?: string } | { status: 'FAILED' | 'CANCELLED'; error: ReturnType<typeof serializeError> };

/**
 * A child's outcome at its parent's journal position (first wins), in the journal of the parent's incarnation
 * the child was started by (`scope`: sdk/core/run-scope.ts's scopeOf at `createdAt`). The caller wakes the parent.
 */
export async function recordChildOutcome(
  store: RunStore,
  child: RunRecord,
  parent: ParentLink,
  outcome: ChildOutcome,
  createdAt: number,
  scope: ItemScope,
): Promise<void> {
  const entry: JournalEntry = {
    attempt: parent.attempt,
    position: parent.position,
    kind: 'child',
    name: child.name,
    status: outcome.status === 'SUCCEEDED' ? 'done' : 'failed',
    resolvedBy: child.runId,
    createdAt,
  };
  if (outcome.status === 'SUCCEEDED') {
    if (outcome.output !== undefined) entry.result = outcome.output;
  } else {
    entry.error = outcome.error;
  }
  await store.recordEntry(parent.runId, { ...entry, ...scope });
}

/** A fork's copy of a kept entry under the new run (fork/fork.ts): a stream chunk is its own item, so subscribers of the fork see it. */
export function recordForkedEntry(store: RunStore, runId: string, entry: JournalEntry): Promise<unknown> {
  return entry.kind === 'stream' ? store.putStreamChunk(runId, entry) : store.recordEntry(runId, entry);
}
