/**
 * `ctx.patched(id)` and `ctx.deprecatePatch(id)`: changing the code of a durable task under runs that are
 * already in flight (Temporal's patching model). The decision is pure: it reads the journal at the call's
 * position, so the live replay (replay.ts), the store-free history replay (history/replay-history.ts) and,
 * later, a `ctx.map` branch's own journal scope all decide the same way.
 *
 * A marker is an ordinary journal entry (`kind: 'patch'`, `name: id`) that takes one position. It is recorded
 * like a sleep (sdk/core/journal.ts): no write of its own; it rides on the next entry item the run writes
 * (`carried`) or on the run item's next write (the park, the finish). So a patch costs no request.
 *
 * Why "nothing at this position and nothing recorded after it" is new ground: every entry item written after
 * the marker was taken carries it (positions are taken in call order, and an entry item carries every entry
 * only the run item holds), and so does the park or the finish. A later entry without the marker before it
 * therefore means the run was recorded by code without this patch. The one write that does not carry it is a
 * wait's waiters: a crash between registering them and parking loses the marker, and the next replay finds
 * the position empty with nothing recorded after it, decides "new ground" again and records the same marker,
 * which agrees with the waiters that the patched branch registered.
 */
import type { JournalEntry, OperationKind } from '../../ports.ts';
import { InvalidDefinitionError } from '../errors.ts';
import type { JournalScope } from './fan-out.ts';
import type { OperationHost } from './host.ts';

/** `ctx.patched(id)` in a replay: decided once per scope and id; on new ground the marker is held like a sleep's entry. */
export function patched(host: OperationHost, id: string, scope: JournalScope): boolean {
  assertPatchId(id, 'patched');
  const known = scope.patches.get(id);
  if (known !== undefined) return known;
  host.checkLiveOrThrow();
  const position = scope.peek();
  const decision = decidePatch(id, position, scope.view(host.entries, (p) => host.waiters.has(p)));
  scope.patches.set(id, decision !== 'older');
  if (decision === 'older') return false;
  scope.take();
  if (decision === 'new') {
    // No write of its own, like a sleep (sdk/core/journal.ts): the next entry item or the park carries it.
    host.describeOperation(position, 'patch', id);
    const written = host.journal.hold(patchMarker(host.attempt, position, id, host.backend.clock.now()));
    if (written) host.background(written);
  }
  return true;
}

/** `ctx.deprecatePatch(id)` in a replay: consumes the position when this id's marker holds it. */
export function deprecatePatch(host: OperationHost, id: string, scope: JournalScope): void {
  assertPatchId(id, 'deprecatePatch');
  host.checkLiveOrThrow();
  if (isMarkerOf(id, scope.peek(), scope.view(host.entries, (p) => host.waiters.has(p)))) scope.take();
}

/** What a patch decision reads of one journal scope (a run's attempt, or a branch of it). */
export interface PatchJournal {
  /** The entry recorded at `position`, if any. */
  entryAt(position: number): { kind: OperationKind; name: string } | undefined;
  /** Whether a pending operation (a registered wait, a running child) holds `position`. */
  pendingAt(position: number): boolean;
  /** Whether an entry is recorded at any position after `position`. */
  recordedAfter(position: number): boolean;
}

/**
 * - `marker`: a marker for this id holds the position (a run that took the patched branch): `true`, and the
 *   position is consumed;
 * - `older`: another operation holds the position, or a later one is recorded without a marker before it (a
 *   run recorded before the patch existed): `false`, nothing is recorded and the position is not consumed, so
 *   the old branch's operation takes it;
 * - `new`: new ground: record a marker, `true`.
 */
export type PatchDecision = 'marker' | 'older' | 'new';

/** Decides `ctx.patched(id)` at `position`. */
export function decidePatch(id: string, position: number, journal: PatchJournal): PatchDecision {
  const recorded = journal.entryAt(position);
  if (recorded) return recorded.kind === 'patch' && recorded.name === id ? 'marker' : 'older';
  if (journal.pendingAt(position) || journal.recordedAfter(position)) return 'older';
  return 'new';
}

/** Whether `ctx.deprecatePatch(id)` at `position` finds this id's marker (and so consumes the position). */
export function isMarkerOf(id: string, position: number, journal: PatchJournal): boolean {
  const recorded = journal.entryAt(position);
  return recorded?.kind === 'patch' && recorded.name === id;
}

/** The marker entry `ctx.patched(id)` records on new ground. */
export function patchMarker(attempt: number, position: number, id: string, createdAt: number): JournalEntry {
  return { attempt, position, kind: 'patch', name: id, status: 'done', result: 'true', createdAt };
}

/** @throws {InvalidDefinitionError} unless `id` is a non-empty string */
export function assertPatchId(id: unknown, method: string): asserts id is string {
  if (typeof id !== 'string' || id === '') throw new InvalidDefinitionError(`ctx.${method} needs a patch id: a non-empty string, got ${JSON.stringify(id) ?? String(id)}`);
}

/** A `PatchJournal` over an attempt's entries by position and its pending positions. */
export function journalView(entries: ReadonlyMap<number, { kind: OperationKind; name: string }>, pending: (position: number) => boolean): PatchJournal {
  return {
    entryAt: (position) => entries.get(position),
    pendingAt: pending,
    recordedAfter: (position) => {
      for (const p of entries.keys()) if (p > position) return true;
      return false;
    },
  };
}
