/**
 * Large payloads: inputs, outputs and step results above 256 KiB (up to `maxPayloadBytes`) are kept in the
 * backend's payload store (S3) and the item holds a reference, `@payload:<bytes>:<key>`.
 *
 * Writing: `offloadingStore` wraps the run store, so every write of a run item, journal entry or DAG task state
 * puts a large text's blob first and then writes the item referencing it. A crash in between leaves an orphan
 * blob (removed by its expiry / the bucket's lifecycle rule), never an item pointing at nothing. Keys are
 * `runs/<runId>/<sha256 of the text>`: a retried write puts the same key again.
 *
 * Reading is lazy: loading a run (a replay's journal, `runs.get`'s item, a listing) fetches nothing. A blob is
 * fetched where its value is used: the replay answering the durable call at that position, `runs.get`,
 * `result()`, `runs.export`, a DAG task reading its parent's output. `runs.list` never fetches.
 */
import { createHash } from 'node:crypto';
import type { JournalEntry, PayloadStore, RunStore } from '../ports.ts';
import { DurableError } from './errors.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES, PAYLOAD_LIMIT_BYTES, PAYLOAD_REF_PREFIX, decodePayload } from './json.ts';

/** The largest `maxPayloadBytes` accepted (512 MiB: a Node string holds at most about 512 M characters). */
export const MAX_PAYLOAD_BYTES_CEILING = 512 * 1024 * 1024;

/** A reference to a blob: its key and the payload's size in bytes. */
export interface PayloadRef {
  key: string;
  bytes: number;
}

/** True when stored text is a reference to a blob rather than JSON. */
export function isPayloadRef(text: string | undefined): boolean {
  return text !== undefined && text.startsWith(PAYLOAD_REF_PREFIX);
}

/** The reference in stored text (see `isPayloadRef`). */
export function parsePayloadRef(text: string | undefined): PayloadRef {
  const rest = (text ?? '').slice(PAYLOAD_REF_PREFIX.length);
  const colon = rest.indexOf(':');
  return { bytes: Number(rest.slice(0, colon)), key: rest.slice(colon + 1) };
}

/** The key of a run's blob: run-scoped and content-addressed. */
export function payloadKey(runId: string, text: string): string {
  return `runs/${encodeURIComponent(runId)}/${createHash('sha256').update(text).digest('hex')}`;
}

/** The key prefix of every blob of a run. */
export function payloadPrefix(runId: string): string {
  return `runs/${encodeURIComponent(runId)}/`;
}

/**
 * The limit payloads are checked against: `maxPayloadBytes` (default 32 MiB) when the backend has a payload
 * store, else 256 KiB (everything inline).
 * @throws {DurableError} a `maxPayloadBytes` that is not a positive integer up to 512 MiB.
 */
export function payloadLimit(payloads: PayloadStore | undefined, maxPayloadBytes: number | undefined): number {
  if (maxPayloadBytes !== undefined && (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes <= 0 || maxPayloadBytes > MAX_PAYLOAD_BYTES_CEILING)) {
    throw new DurableError(`maxPayloadBytes must be a positive integer up to ${MAX_PAYLOAD_BYTES_CEILING} (512 MiB), got ${String(maxPayloadBytes)}`);
  }
  if (!payloads) return Math.min(maxPayloadBytes ?? PAYLOAD_LIMIT_BYTES, PAYLOAD_LIMIT_BYTES);
  return maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
}

/** Stored text as JSON text: a reference is fetched from the payload store; inline text is returned as is. */
export async function resolvePayload(payloads: PayloadStore | undefined, text: string | undefined): Promise<string | undefined> {
  if (!isPayloadRef(text)) return text;
  const ref = parsePayloadRef(text);
  if (!payloads) throw new DurableError(`a large payload (${ref.bytes} bytes, ${ref.key}) is stored in S3, but this client has no payload store`);
  const body = await payloads.get(ref.key);
  if (body === undefined) throw new DurableError(`the large payload ${ref.key} (${ref.bytes} bytes) is gone from the payload store (expired with its run?)`);
  return body;
}

/** Stored text, fetched if it is a reference, then parsed. */
export async function readPayload<T = unknown>(payloads: PayloadStore | undefined, text: string | undefined): Promise<T> {
  return decodePayload<T>(await resolvePayload(payloads, text));
}

const WRAPPED = Symbol('offloading');

/**
 * `store`, with every large text it writes (run input and output, entry results, task state outputs) put in
 * `payloads` first and replaced by a reference. `expiresAt` gives a blob the TTL its item would have (epoch seconds).
 */
export function offloadingStore(store: RunStore, payloads: () => PayloadStore, expiresAt: () => number | undefined): RunStore {
  if ((store as { [WRAPPED]?: true })[WRAPPED]) return store;
  const offload = async (runId: string, text: string | undefined): Promise<string | undefined> => {
    if (text === undefined || isPayloadRef(text) || text.length <= PAYLOAD_LIMIT_BYTES / 3) return text;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes <= PAYLOAD_LIMIT_BYTES) return text;
    const key = payloadKey(runId, text);
    const ttl = expiresAt();
    await payloads().put(key, text, ttl !== undefined ? { expiresAt: ttl } : {});
    return `${PAYLOAD_REF_PREFIX}${bytes}:${key}`;
  };
  const entry = async (runId: string, e: JournalEntry): Promise<JournalEntry> => {
    const result = await offload(runId, e.result);
    return result === e.result ? e : { ...e, result: result as string };
  };
  const parkedOf = async (runId: string, parked: readonly JournalEntry[]) => Promise.all(parked.map((e) => entry(runId, e)));
  const overrides: Partial<RunStore> & { [WRAPPED]: true } = {
    [WRAPPED]: true,
    createRun: async (run) => {
      const input = (await offload(run.runId, run.input))!;
      const output = await offload(run.runId, run.output);
      return store.createRun({ ...run, input, ...(output !== undefined ? { output } : {}) });
    },
    suspend: async (runId, intent) => store.suspend(runId, { ...intent, parked: await parkedOf(runId, intent.parked) }),
    replayAgain: async (runId, intent) => store.replayAgain(runId, intent.parked ? { ...intent, parked: await parkedOf(runId, intent.parked) } : intent),
    finish: async (runId, intent) => {
      const { outcome } = intent;
      const output = outcome.status === 'SUCCEEDED' ? await offload(runId, outcome.output) : undefined;
      const stored = output === undefined ? outcome : { status: 'SUCCEEDED' as const, output };
      return store.finish(runId, { ...intent, outcome: stored, parked: await parkedOf(runId, intent.parked) });
    },
    recordEntry: async (runId, e, carried) => {
      const stored = await entry(runId, e);
      const outcome = await store.recordEntry(runId, stored, carried);
      // Won: the position holds the entry given, whose result the caller has in hand (no fetch needed to answer it);
      // the caller may also compare the winner with the entry it passed (`winner === done`).
      return outcome.won || outcome.entry === stored ? { ...outcome, entry: e } : outcome;
    },
    updateRetryingEntry: async (runId, e, expected) => store.updateRetryingEntry(runId, await entry(runId, e), expected),
    putTaskState: async (state, expected) => {
      const output = await offload(state.workflowRunId, state.output);
      return store.putTaskState(output === state.output ? state : { ...state, output: output as string }, expected);
    },
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop in overrides) return overrides[prop as keyof typeof overrides];
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
