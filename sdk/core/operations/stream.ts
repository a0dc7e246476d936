/**
 * `ctx.putStream(chunk)`: a JSON chunk a run publishes to its subscribers (`durable.runs.subscribeToStream`).
 *
 * A chunk takes a journal position like any durable call, and is recorded once per position: the chunk item is
 * the journal record (`RunStore.putStreamChunk`), and `loadRun` returns it among the entries, so a replay that
 * reaches the position answers from the journal and writes nothing.
 *
 * Subscribers read a run's chunks in `seq` order, from the last one they saw, so a chunk's `seq` must be its
 * place in write order, with no gaps a subscriber could read past. A replay writes its chunks one at a time, each
 * at the lowest `seq` after every chunk it knows (loaded, written or read back). The write is first-wins on the
 * `seq`: a replay that loses it (a concurrent replay of the same run, after a duplicate delivery or an expired
 * lease) reads the winner back, and either finds its own position there (the other replay recorded this very
 * chunk: nothing to write) or learns the other position's chunk and tries the next `seq`. Because chunks are only
 * written above a known one, the taken `seq`s are always 1..n: a chunk recorded for a position by any replay sits
 * at a `seq` every other writer walks through before it could write that position again. Exactly once per position.
 */
import type { JournalEntry, RunStore } from '../../ports.ts';
import { PayloadTooLargeError, DurableError } from '../errors.ts';
import { encodePayload } from '../json.ts';
import type { JournalScope } from './fan-out.ts';
import { expectOrThrow, never, newEntry, type OperationHost } from './host.ts';

/**
 * `ctx.putStream(chunk)` in a replay. Synchronous like `now`: the position is taken at the call and the write goes on
 * in the background (in call order, journal-writer.ts's `writeChunk`), so the call need not be awaited; the replay
 * does not end before it lands. A recorded position writes nothing.
 */
export function putStream(host: OperationHost, chunk: unknown, scope: JournalScope): Promise<void> {
  const text = encodeChunk(chunk);
  host.checkLiveOrThrow();
  const position = scope.take();
  const recorded = host.entries.get(position);
  if (recorded) {
    expectOrThrow(host, position, recorded, 'stream', '');
    return Promise.resolve();
  }
  const written = host.journal.writeChunk(newEntry(host, position, 'stream', '', { result: text })).then((winner) => {
    host.entries.set(position, winner);
    host.services.streamed?.(host.runId);
  });
  host.background(written);
  return written.then(
    () => undefined,
    () => never(),
  );
}

/** The largest chunk `ctx.putStream` takes (serialised as JSON, UTF-8). */
export const STREAM_CHUNK_LIMIT_BYTES = 256 * 1024;

/**
 * The chunk as JSON text.
 * @throws {DurableError} a value JSON cannot hold (undefined, a function, a BigInt, a cycle...)
 * @throws {PayloadTooLargeError} over {@link STREAM_CHUNK_LIMIT_BYTES}
 */
export function encodeChunk(chunk: unknown): string {
  const where = 'a ctx.putStream chunk';
  if (chunk === undefined) throw new DurableError(`${where} cannot be stored as JSON: undefined at $. Put plain data (objects, arrays, strings, finite numbers, booleans, null)`);
  const text = encodePayload(chunk, where)!;
  if (text.length * 3 > STREAM_CHUNK_LIMIT_BYTES) {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > STREAM_CHUNK_LIMIT_BYTES) throw new PayloadTooLargeError(where, size, STREAM_CHUNK_LIMIT_BYTES);
  }
  return text;
}

/** Writes one replay's chunks, one at a time in call order (see the module comment). */
export class StreamWriter {
  private last: number;
  /** Chunks of other positions that concurrent replays recorded, found while writing (`attempt:position`). */
  private readonly learned = new Map<string, JournalEntry>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Pick<RunStore, 'putStreamChunk'>,
    private readonly runId: string,
    loaded: readonly JournalEntry[],
    /** A chunk of another position, recorded by a concurrent replay, found while writing. */
    private readonly learn: (entry: JournalEntry) => void,
  ) {
    this.last = 0;
    for (const e of loaded) if (e.kind === 'stream' && e.seq !== undefined && e.seq > this.last) this.last = e.seq;
  }

  /** Records `entry` (a `stream` entry without `seq`); resolves with the entry that holds its position. */
  write(entry: JournalEntry): Promise<JournalEntry> {
    const written = this.chain.then(() => this.walk(entry));
    this.chain = written.catch(() => undefined);
    return written;
  }

  private async walk(entry: JournalEntry): Promise<JournalEntry> {
    // Queued before an earlier write of this replay learned that a concurrent one had recorded this position.
    const known = this.learned.get(`${entry.attempt}:${entry.position}`);
    if (known) return known;
    for (;;) {
      const seq = this.last + 1;
      const { won, entry: holder } = await this.store.putStreamChunk(this.runId, { ...entry, seq });
      this.last = seq;
      if (won) return holder;
      if (holder.attempt === entry.attempt && holder.position === entry.position) return holder;
      this.learned.set(`${holder.attempt}:${holder.position}`, holder);
      this.learn(holder);
    }
  }
}
