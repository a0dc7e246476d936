/**
 * Where a run's journal lives. Most entries have an item of their own (first-wins conditional put). A
 * sleep's entry does not need one: nobody races the replay to decide it (only the clock resolves it), so
 * instead of a write of its own it rides on the run item's next write (the park, or the finish) as
 * `parkedEntries`, and on the next entry item the run writes (`recordEntry`'s `carried`), after which the
 * run item lets go of it. A sleep then costs its park and its wake-up, not a third write.
 *
 * Why it stays exactly-once: the park is conditional on the lease, so one replay decides a sleep's `dueAt`;
 * every copy (the run item's, an entry item's `carried`) is that decision copied. When copies could differ
 * (a replay that lost its lease raced the new owner), an entry item wins over the run item, which is the
 * order `mergeJournal` (sdk/adapters/shared/merge-journal.ts, what both stores' `loadRun` returns) reads them in,
 * and the replay that finds a different value fails and replays.
 */
/** More parked entries than this and the replay writes them out (a loop of sleeps must not grow the run item). */
export const MAX_PARKED_ENTRIES = 8;
