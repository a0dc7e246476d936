import { DurableError, PayloadTooLargeError } from './errors.ts';

/** Every payload (input, output, step result, event) is limited to 256 KiB serialised, as AWS durable functions and EventBridge entries are. */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

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
 * @throws {DurableError} a function, BigInt, symbol, non-finite number, Map/Set or cycle, naming where it sits.
 * @throws {PayloadTooLargeError} over 256 KiB.
 */
export function encodePayload(value: unknown, where: string): string | undefined {
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
  if (text.length * 3 > PAYLOAD_LIMIT_BYTES) {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > PAYLOAD_LIMIT_BYTES) throw new PayloadTooLargeError(where, size, PAYLOAD_LIMIT_BYTES);
  }
  return text;
}

/** Parses stored JSON text (`undefined` stays `undefined`). */
export function decodePayload<T = unknown>(text: string | undefined): T {
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
