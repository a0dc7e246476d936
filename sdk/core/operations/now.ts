/**
 * `ctx.now()`: the clock, checkpointed. Synchronous: the position is taken at the call.
 *
 * - Recorded: the recorded instant.
 * - New ground: the clock's instant at once, recorded first-wins in the background (the replay does not end before
 *   it lands). A racing replay that recorded another instant first makes this one fail and replay: it must not go
 *   on with a clock the journal does not hold.
 */
import { DurableError } from '../errors.ts';
import { decodePayload } from '../json.ts';
import type { JournalScope } from './fan-out.ts';
import { Fatal, expectOrThrow, newEntry, type OperationHost } from './host.ts';

/** `ctx.now()` at `scope`'s next position. */
export function now(host: OperationHost, scope: JournalScope): Date {
  host.checkLiveOrThrow();
  const position = scope.take();
  const recorded = host.entries.get(position);
  if (recorded) {
    expectOrThrow(host, position, recorded, 'now', '');
    return new Date(decodePayload<number>(recorded.result));
  }
  const at = host.backend.clock.now();
  host.background(
    host.journal.record(newEntry(host, position, 'now', '', { result: String(at) })).then((winner) => {
      // A racing replay recorded another value first; this one must not go on with a different clock.
      if (decodePayload<number>(winner.result) !== at) throw new Fatal(new DurableError(`a concurrent replay recorded ctx.now() at position ${position} first; retrying`));
    }),
  );
  return new Date(at);
}
