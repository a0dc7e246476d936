import { DurableError, PayloadTooLargeError } from './errors.ts';

/**
 * A payload up to 256 KiB serialised is kept inline in its item (AWS durable functions and EventBridge entries
 * share that limit). Event payloads stop there; inputs, outputs and step results above it go to the backend's
 * payload store (S3) up to `maxPayloadBytes` (sdk/core/payloads.ts).
 */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** The default `maxPayloadBytes`: 32 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 32 * 1024 * 1024;

/** Stored text that is a reference to a blob in the payload store, not JSON (no JSON text starts with `@`). */
export const PAYLOAD_REF_PREFIX = '@payload:';

class Unrepresentable {
  constructor(readonly what: string) {}
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'function':
      throw new Unrepresentable('a function');
    case 'bigint':
      throw new Unrepresentable(`a BigInt (${value}n)`);
    case 'symbol':
      throw new Unrepresentable('a symbol');
    case 'number':
      if (!Number.isFinite(value)) throw new Unrepresentable(`the number ${value}`);
      return value;
    case 'object':
      if (value instanceof Map || value instanceof Set) throw new Unrepresentable(`a ${value.constructor.name}`);
      return value;
    default:
      return value;
  }
}

/**
 * Serialises a payload to JSON text, refusing what JSON cannot represent faithfully and what is over the
 * size limit. `undefined` encodes as `undefined` (nothing stored).
 *
 * @param where names the payload in error messages, e.g. `step 'charge' result`.
 * @param limit the largest size allowed (bytes): 256 KiB unless the backend offloads large payloads.
 * @throws {DurableError} a function, BigInt, symbol, non-finite number, Map/Set or cycle, naming where it sits.
 * @throws {PayloadTooLargeError} over `limit`.
 */
export function encodePayload(value: unknown, where: string, limit: number = PAYLOAD_LIMIT_BYTES): string | undefined {
  if (value === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(value, replacer);
  } catch (error) {
    const path = findUnrepresentable(value);
    const what = error instanceof Unrepresentable ? error.what : path?.what ?? 'a cycle';
    throw new DurableError(
      `${where} cannot be stored as JSON: ${what} at ${path?.path ?? '$'}. Return plain data (objects, arrays, strings, finite numbers, booleans, null)`,
      { cause: error },
    );
  }
  if (text === undefined) {
    throw new DurableError(`${where} cannot be stored as JSON: ${typeof value} at $`);
  }
  // Fast path: a UTF-8 byte is at most 3 per UTF-16 unit, so short strings need no exact count.
  if (text.length * 3 > limit) {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > limit) throw new PayloadTooLargeError(where, size, limit);
  }
  return text;
}

/**
 * Parses stored JSON text (`undefined` stays `undefined`). A payload reference must be resolved first
 * (sdk/core/payloads.ts `resolvePayload`): parsing one is a bug, and says so.
 */
export function decodePayload<T = unknown>(text: string | undefined): T {
  if (text !== undefined && text.startsWith(PAYLOAD_REF_PREFIX)) throw new DurableError(`internal: a large payload (${text}) was read without fetching it from the payload store`);
  return (text === undefined ? undefined : JSON.parse(text)) as T;
}

function findUnrepresentable(root: unknown): { path: string; what: string } | undefined {
  const seen = new Set<unknown>();
  const visit = (value: unknown, path: string): { path: string; what: string } | undefined => {
    try {
      replacer.call(undefined, '', value);
    } catch (error) {
      if (error instanceof Unrepresentable) return { path, what: error.what };
    }
    if (value === null || typeof value !== 'object') return undefined;
    if (seen.has(value)) return { path, what: 'a cycle (an object that contains itself)' };
    seen.add(value);
    const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v] as const) : Object.entries(value).map(([k, v]) => [`.${k}`, v] as const);
    for (const [suffix, child] of entries) {
      const found = visit(child, path + suffix);
      if (found) return found;
    }
    seen.delete(value);
    return undefined;
  };
  return visit(root, '$');
}
