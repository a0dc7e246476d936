/**
 * `ctx.sleepFor(duration)` / `ctx.sleepUntil(date)`: a position whose entry holds its `dueAt`.
 *
 * - Recorded: parks until `dueAt`, then answers `{ durationMs }`.
 * - New ground: decides `dueAt` (never before now) and records it with the journal writer's `hold`: no write of
 *   its own (sdk/core/journal.ts); the park, or the next entry item, carries it. A timer wakes the run when due.
 */
import { parseDuration, type Duration } from '../duration.ts';
import { DurableError } from '../errors.ts';
import { decodePayload } from '../json.ts';
import type { JournalScope } from './fan-out.ts';
import { expect, newEntry, timerId, type OperationHost } from './host.ts';

/** `ctx.sleepFor(duration)`. @throws {InvalidDurationError} a duration that does not parse */
export function sleepFor(host: OperationHost, duration: Duration, scope: JournalScope): Promise<{ durationMs: number }> {
  const ms = parseDuration(duration);
  return sleep(host, (now) => now + ms, scope);
}

/** `ctx.sleepUntil(date)`. @throws {DurableError} not a valid Date or epoch milliseconds */
export function sleepUntil(host: OperationHost, date: Date | number, scope: JournalScope): Promise<{ durationMs: number }> {
  const at = date instanceof Date ? date.getTime() : date;
  if (typeof at !== 'number' || !Number.isFinite(at)) throw new DurableError(`sleepUntil needs a valid Date or epoch milliseconds, got ${String(date)}`);
  return sleep(host, () => at, scope);
}

function sleep(host: OperationHost, due: (now: number) => number, scope: JournalScope): Promise<{ durationMs: number }> {
  const { backend } = host;
  return host.durable(async (position) => {
    let entry = host.entries.get(position);
    if (entry) {
      expect(host, position, entry, 'sleep', '');
    } else {
      const now = backend.clock.now();
      const dueAt = Math.max(now, due(now));
      // No write of its own: the park (or the next entry item) records it (sdk/core/journal.ts).
      const written = host.journal.hold(newEntry(host, position, 'sleep', '', { dueAt, result: JSON.stringify({ durationMs: dueAt - now }) }));
      if (written) await written;
      entry = host.entries.get(position)!;
      expect(host, position, entry, 'sleep', '');
      if (entry.dueAt! > backend.clock.now()) {
        await backend.timers.schedule(timerId(host.runId, host.attempt, position, 0, entry.dueAt!), entry.dueAt!, { runId: host.runId });
      }
    }
    if (entry.dueAt! > backend.clock.now()) return host.park(position, entry.dueAt);
    return decodePayload<{ durationMs: number }>(entry.result);
  }, scope);
}
