/**
 * `ctx.map` / `ctx.parallel`: bounded fan-out inside a durable run. Each branch gets a child `DurableContext`
 * whose operations are journaled in a scope of their own, so a branch can park (sleep, wait for an event, wait
 * for a child) and resume on its own while its siblings go on.
 *
 * Journal positions stay numbers (the stores, timer ids, child run ids and the history format all key on them).
 * A branch's operations take positions in a reserved range far above anything else a run uses (top-level
 * operations count up from 0; DAG bookkeeping sits at 1,000,000+, sdk/core/dag/positions.ts):
 *
 *     position = BRANCH_BASE + (anchor · 2^17 + branch) · 2^17 + n        (BRANCH_BASE = 2^52)
 *
 * where `anchor` is the fan-out call's own (top-level) position, `branch` the branch index and `n` the branch's
 * own counter. Every such number is below 2^53 (a safe integer) and has 16 digits, so DynamoDB's zero-padded sort
 * keys still order them numerically (after every top-level entry). Limits that follow: a fan-out at a top-level
 * position below 2^18, at most 2^17 branches, 2^17 operations per branch, and no fan-out inside a branch.
 * When every branch has settled, the call records its own entry at `anchor` (kind `map` / `parallel`, the
 * results in input order, or the failure), and later replays answer it from there without running a branch.
 */
import type { JournalEntry, OperationKind, SerializedError } from '../../ports.ts';
import { InvalidDefinitionError, deserializeError, serializeError } from '../errors.ts';
import { assertName } from '../definitions.ts';
import { encodePayload } from '../json.ts';
import type { PatchJournal } from './patched.ts';

const BRANCH_BITS = 2 ** 17;
const OP_BITS = 2 ** 17;
const ANCHOR_LIMIT = 2 ** 18;
/** First position of the branch range. */
export const BRANCH_BASE = 2 ** 52;

/** Options of `ctx.map` and `ctx.parallel`. */
export interface FanOutOptions {
  /** At most this many branches run at once (a parked branch holds its slot). @default all at once */
  maxConcurrency?: number;
  /**
   * How many branches may fail without failing the call. When given, the call resolves with one
   * {@link BranchSettled} per branch (in input order) instead of the bare outputs, and fails only when more
   * branches than this fail. @default none: the first failure fails the call
   */
  toleratedFailures?: number;
}

/** What one branch ended with, when the call was given `toleratedFailures`. */
export type BranchSettled<T> = { status: 'fulfilled'; value: T } | { status: 'rejected'; error: Error };

/** A branch's outcome as the journal stores it. */
type StoredSettled = { status: 'fulfilled'; value: unknown } | { status: 'rejected'; error: SerializedError };

/** Where a journal position is: at top level, or in a branch of a fan-out. */
export interface Place {
  anchor: number;
  branch: number;
  n: number;
}

/** The branch a position belongs to, or undefined for a top-level position. */
export function placeOf(position: number): Place | undefined {
  if (position < BRANCH_BASE) return undefined;
  const rel = position - BRANCH_BASE;
  const n = rel % OP_BITS;
  const slot = (rel - n) / OP_BITS;
  const branch = slot % BRANCH_BITS;
  return { anchor: (slot - branch) / BRANCH_BITS, branch, n };
}

/** The journal position of operation `n` of branch `branch` of the fan-out at `anchor`. */
export function branchPosition(anchor: number, branch: number, n: number): number {
  if (n >= OP_BITS) throw new InvalidDefinitionError(`a branch of a ctx.map/ctx.parallel may make at most ${OP_BITS} durable calls`);
  return BRANCH_BASE + (anchor * BRANCH_BITS + branch) * OP_BITS + n;
}

/**
 * A journal scope: where the next durable call of a context takes its position. The run's own scope counts
 * from 0; a branch's maps its own counter into the branch range.
 */
export class JournalScope {
  private cursor = 0;
  /** `ctx.patched` answers, by id: decided once per scope. */
  readonly patches = new Map<string, boolean>();

  constructor(readonly branch?: { anchor: number; index: number; label: string }) {}

  /** The position the next durable call takes. */
  peek(): number {
    return this.branch ? branchPosition(this.branch.anchor, this.branch.index, this.cursor) : this.cursor;
  }

  /** Takes the next position. */
  take(): number {
    const position = this.peek();
    this.cursor++;
    return position;
  }

  /** How many positions this scope has taken (for the logger's "replaying" test at top level). */
  get taken(): number {
    return this.cursor;
  }

  /** The journal view `ctx.patched` decides from, limited to this scope (sdk/core/operations/patched.ts). */
  view(entries: ReadonlyMap<number, { kind: OperationKind; name: string }>, pending: (position: number) => boolean): PatchJournal {
    const mine = this.branch;
    return {
      entryAt: (position) => entries.get(position),
      pendingAt: pending,
      recordedAfter: (position) => {
        const at = placeOf(position);
        for (const p of entries.keys()) {
          const place = placeOf(p);
          if (!mine) {
            // A branch's entries stand at their fan-out's position: one recorded at or after `position` is later ground.
            if (place ? place.anchor >= position : p > position) return true;
          } else if (place && at && place.anchor === at.anchor && place.branch === at.branch && place.n > at.n) {
            return true;
          }
        }
        return false;
      },
    };
  }
}

/** Validates a fan-out call's arguments. @throws {InvalidDefinitionError} */
export function checkFanOut(kind: 'map' | 'parallel', name: string, count: number, options: FanOutOptions | undefined, anchorScope: JournalScope): void {
  assertName(name, `a ctx.${kind}`);
  if (anchorScope.branch) throw new InvalidDefinitionError(`ctx.${kind}('${name}') inside a branch of ${anchorScope.branch.label}: fan-outs do not nest; flatten the items or run a child task`);
  if (count > BRANCH_BITS) throw new InvalidDefinitionError(`ctx.${kind}('${name}'): at most ${BRANCH_BITS} branches, got ${count}`);
  const max = options?.maxConcurrency;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new InvalidDefinitionError(`ctx.${kind}('${name}'): maxConcurrency must be a whole number ≥ 1, got ${String(max)}`);
  const tolerated = options?.toleratedFailures;
  if (tolerated !== undefined && (!Number.isInteger(tolerated) || tolerated < 0)) {
    throw new InvalidDefinitionError(`ctx.${kind}('${name}'): toleratedFailures must be a whole number ≥ 0, got ${String(tolerated)}`);
  }
}

/** @throws {InvalidDefinitionError} when the fan-out's own position is past the range branch positions encode */
export function checkAnchor(kind: 'map' | 'parallel', name: string, anchor: number): void {
  if (anchor >= ANCHOR_LIMIT) throw new InvalidDefinitionError(`ctx.${kind}('${name}') at position ${anchor}: a fan-out must come within the run's first ${ANCHOR_LIMIT} durable calls`);
}

/**
 * Runs `count` branches, at most `limit` at once, in index order. A branch that fails stops new branches from
 * starting once more than `tolerated` have failed; the call resolves when every started branch has settled
 * (a parked branch never settles: the replay suspends, and the next replay runs the same branches again).
 */
export function runBranches(count: number, limit: number, tolerated: number, start: (index: number) => unknown): Promise<(StoredSettled | undefined)[]> {
  return new Promise((resolve) => {
    const results: (StoredSettled | undefined)[] = new Array(count).fill(undefined);
    let next = 0;
    let running = 0;
    let failures = 0;
    const launch = () => {
      while (failures <= tolerated && running < limit && next < count) {
        const index = next++;
        running++;
        Promise.resolve()
          .then(() => start(index))
          .then(
            (value) => settle(index, { status: 'fulfilled', value }),
            (error: unknown) => settle(index, { status: 'rejected', error: serializeError(error) }),
          );
      }
      if (running === 0 && (failures > tolerated || next >= count)) resolve(results);
    };
    const settle = (index: number, outcome: StoredSettled) => {
      running--;
      results[index] = outcome;
      if (outcome.status === 'rejected') failures++;
      launch();
    };
    launch();
  });
}

/** The entry a settled fan-out records at its anchor: the outputs (or settled list), or the first failure by index. */
export function fanOutEntry(where: string, settled: readonly (StoredSettled | undefined)[], tolerant: boolean, tolerated: number): Pick<JournalEntry, 'status' | 'result' | 'error'> {
  const failed = settled.filter((s): s is Extract<StoredSettled, { status: 'rejected' }> => s?.status === 'rejected');
  if (failed.length > (tolerant ? tolerated : 0)) return { status: 'failed', error: failed[0]!.error };
  const result = tolerant ? settled : settled.map((s) => (s as { value: unknown }).value);
  const text = encodePayload(result.map((v) => (v === undefined ? null : v)), `${where} results`);
  return text === undefined ? { status: 'done' } : { status: 'done', result: text };
}

/** Turns a recorded tolerant result back into {@link BranchSettled} values (errors as Error objects). */
export function settledFromJournal(value: unknown): BranchSettled<unknown>[] {
  return (value as StoredSettled[]).map((s) => (s.status === 'rejected' ? { status: 'rejected', error: deserializeError(s.error) } : s));
}
