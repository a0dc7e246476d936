/**
 * Which recorded operations a fork keeps (pure: a function of the journal alone).
 *
 * The fork point is the first step named `fromStep` in the latest attempt's journal, by position. At top level
 * that is its position P: every entry before P is kept (steps, sleeps, consumed events, children, `now`, patch
 * markers, fan-outs that ended before it, with their branches), P and everything after it re-execute.
 * When the first such step is inside a `ctx.map` / `ctx.parallel` (and no top-level step of that name comes
 * earlier), the fork point is that fan-out's anchor A: entries before A are kept, the fan-out's recorded outcome
 * is dropped (so it runs again), and each of its branches keeps what it recorded before its own first step named
 * `fromStep` (a branch without one is kept whole, and answers from the journal). See sdk/core/fork/README.md.
 */
import type { JournalEntry } from '../../ports.ts';
import { placeOf } from '../operations/fan-out.ts';

export interface ForkPlan {
  /** The top-level position the fork re-executes from (a step, or the anchor of the fan-out holding it). */
  at: number;
  /** Whether the fork point is a fan-out whose branches hold the step. */
  inFanOut: boolean;
  /** The entries kept, in position order (as recorded: the caller renumbers the attempt and restamps them). */
  keep: JournalEntry[];
}

/** The plan for forking `entries` (one attempt's journal) from `fromStep`, or undefined when no step has that name. */
export function planFork(entries: readonly JournalEntry[], fromStep: string): ForkPlan | undefined {
  let top = Infinity;
  let anchor = Infinity;
  for (const e of entries) {
    if (e.kind !== 'step' || e.name !== fromStep) continue;
    const place = placeOf(e.position);
    if (place === undefined) top = Math.min(top, e.position);
    else anchor = Math.min(anchor, place.anchor);
  }
  if (top === Infinity && anchor === Infinity) return undefined;
  const inFanOut = anchor < top;
  const at = Math.min(top, anchor);
  // Per branch of the fan-out at `at`: the branch-local index of its first step named fromStep.
  const firstInBranch = new Map<number, number>();
  if (inFanOut) {
    for (const e of entries) {
      const place = placeOf(e.position);
      if (!place || place.anchor !== at || e.kind !== 'step' || e.name !== fromStep) continue;
      firstInBranch.set(place.branch, Math.min(firstInBranch.get(place.branch) ?? Infinity, place.n));
    }
  }
  const keep = entries.filter((e) => {
    const place = placeOf(e.position);
    if (place === undefined) return e.position < at;
    if (place.anchor < at) return true;
    if (place.anchor > at || !inFanOut) return false;
    return place.n < (firstInBranch.get(place.branch) ?? Infinity);
  });
  return { at, inFanOut, keep: [...keep].sort((a, b) => a.position - b.position) };
}
