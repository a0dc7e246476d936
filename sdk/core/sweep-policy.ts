/**
 * When the sweeper re-sends the dispatch message of a QUEUED run. A QUEUED run untouched for a while has either
 * lost its message or is still waiting behind a backlog, and the sweeper cannot tell which (SQS does not say which
 * messages it holds). Re-sending every sweep would, during a backlog, add up to a message per waiting run per
 * minute (up to 1,000 a sweep), each a duplicate invocation that makes the backlog worse. So a run is re-sent when
 * its age crosses `threshold`, then `2 x threshold`, `4 x threshold`, ...: a lost message is still repaired at the
 * first sweep past `threshold`, and a run waiting 30 minutes behind a backlog gets 5 duplicates, not 30.
 */

/**
 * Whether a sweep re-dispatches a QUEUED run untouched for `ageMs`, given that the previous sweep (whose decisions
 * this one must not repeat) ran `sinceLastSweepMs` ago: true when a re-dispatch point `threshold x 2^k` lies in
 * (`ageMs - sinceLastSweepMs`, `ageMs`].
 *
 * @example
 * redispatchQueued(61_000, 60_000, 60_000);  // true: crossed 1 minute
 * redispatchQueued(181_000, 60_000, 60_000); // false: 4 minutes not reached yet, 2 minutes crossed last sweep
 */
export function redispatchQueued(ageMs: number, thresholdMs: number, sinceLastSweepMs: number): boolean {
  if (ageMs < thresholdMs) return false;
  const before = ageMs - Math.max(0, sinceLastSweepMs);
  if (before < thresholdMs) return true;
  return Math.floor(Math.log2(ageMs / thresholdMs)) > Math.floor(Math.log2(before / thresholdMs));
}
