/**
 * The `ctx.map` / `ctx.parallel` operation as the replay runs it (the position scheme is in fan-out.ts).
 *
 * The fan-out call takes one position in its caller's scope (its anchor) and is not itself "in flight": its
 * branches' durable calls are. So when a branch parks and nothing else runs, the replay suspends as it does for
 * a `Promise.all` of durable calls; the next replay runs the branches again, which answer what they recorded
 * from the journal and go on from where they stopped. Once every branch has settled, the outcome is recorded at
 * the anchor (one write), and replays after that answer the call from it without running any branch.
 */
import type { JournalEntry } from '../../ports.ts';
import type { DurableContext } from '../context-types.ts';
import { runInDurableContext } from '../durable-scope.ts';
import { InvalidDefinitionError } from '../errors.ts';
import { answer, expect, never, newEntry, type OperationHost } from './host.ts';
import { checkAnchor, checkFanOut, fanOutEntry, runBranches, settledFromJournal, type FanOutOptions, type JournalScope } from './fan-out.ts';

/** What a fan-out needs of the replay (replay.ts's Replayer) beyond what every operation needs (host.ts). */
export interface FanOutHost extends OperationHost {
  /** Takes `scope`'s next position, or ends the replay (cancelled, timed out, ended) and returns undefined. */
  takePosition(scope: JournalScope): number | undefined;
  /** Runs `body` at `position`, tracked in flight; a failure that must end the replay ends it. */
  runAt<T>(position: number, body: (position: number) => Promise<T>): Promise<T>;
  /** A child context for one branch, its operations journaled under (anchor, index). */
  branchContext(anchor: number, index: number, label: string): DurableContext;
}

/** `ctx.map`'s items and fn as branches. @throws {InvalidDefinitionError} not an array, or not a function */
export function mapBranches(name: string, items: readonly unknown[], fn: (item: never, ctx: DurableContext, index: number) => unknown): ((ctx: DurableContext) => unknown)[] {
  if (!Array.isArray(items)) throw new InvalidDefinitionError(`ctx.map('${String(name)}'): items must be an array`);
  if (typeof fn !== 'function') throw new InvalidDefinitionError(`ctx.map('${String(name)}'): the third argument must be a function`);
  return items.map((item: unknown, index) => (ctx: DurableContext) => fn(item as never, ctx, index));
}

export async function runFanOut(
  host: FanOutHost,
  scope: JournalScope,
  kind: 'map' | 'parallel',
  name: string,
  branches: readonly ((ctx: DurableContext) => unknown)[],
  options: FanOutOptions | undefined,
): Promise<unknown> {
  if (!Array.isArray(branches) || branches.some((b) => typeof b !== 'function')) throw new InvalidDefinitionError(`ctx.${kind}('${String(name)}'): branches must be an array of functions`);
  checkFanOut(kind, name, branches.length, options, scope);
  const tolerant = options?.toleratedFailures !== undefined;
  const tolerated = options?.toleratedFailures ?? 0;
  const decode = async (entry: JournalEntry) => {
    const value = await answer<unknown>(host, entry);
    return tolerant ? settledFromJournal(value) : value;
  };
  const anchor = host.takePosition(scope);
  if (anchor === undefined) return never();
  const recorded = host.entries.get(anchor);
  if (recorded) {
    return host.runAt(anchor, async () => {
      expect(host, anchor, recorded, kind, name);
      return decode(recorded);
    });
  }
  checkAnchor(kind, name, anchor);
  const label = `${kind} '${name}'`;
  const limit = options?.maxConcurrency ?? Math.max(1, branches.length);
  const settled = await runBranches(branches.length, limit, tolerated, (index) => {
    const ctx = host.branchContext(anchor, index, label);
    return runInDurableContext(ctx, () => branches[index]!(ctx));
  });
  return host.runAt(anchor, async () => {
    const winner = await host.journal.record(newEntry(host, anchor, kind, name, fanOutEntry(`ctx.${kind}('${name}')`, settled, tolerant, tolerated, host.limit)));
    expect(host, anchor, winner, kind, name);
    return decode(winner);
  });
}
