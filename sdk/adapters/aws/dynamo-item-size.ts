/**
 * DynamoDB's 400 KB item limit. An item over it is rejected with a ValidationException that no retry can
 * fix: the store turns it into a `PayloadTooLargeError` (deterministic, so the run fails instead of looping
 * through SQS, the DLQ and the sweeper for ever).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { PayloadTooLargeError } from '../../core/errors.ts';
import type { InstrumentableClient } from './request-counter.ts';
import { PARTITION_KEY, SORT_KEY } from './table-schema.ts';

/** DynamoDB's maximum item size (400 KB, names and values included). */
export const MAX_ITEM_BYTES = 400 * 1024;

/**
 * The messages DynamoDB (and dynalite) give an item over 400 KB: "Item size has exceeded the maximum allowed
 * size" (PutItem, BatchWriteItem) and "Item size to update has exceeded the maximum allowed size" (UpdateItem).
 */
const TOO_LARGE = /item size (to update )?has exceeded the maximum allowed size/i;

/** True when `error` is DynamoDB rejecting an item for its size. */
export function isItemTooLarge(error: unknown): boolean {
  const e = error as { name?: unknown; message?: unknown } | null;
  return e?.name === 'ValidationException' && typeof e.message === 'string' && TOO_LARGE.test(e.message);
}

/** The size DynamoDB counts for an item: each attribute's name plus its value (UTF-8 bytes), approximately for numbers. */
export function itemSize(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.length / 2) + 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.M !== undefined) return 3 + itemSize(value.M);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.SS !== undefined) return value.SS.reduce((sum, v) => sum + Buffer.byteLength(v), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, v) => sum + Math.ceil(v.length / 2) + 1, 0);
  return 0;
}

/**
 * The `PayloadTooLargeError` for a rejected request: names the item(s) and the largest size the request
 * carried (for an UpdateItem, the values it sets; the stored item may hold more).
 */
export function itemTooLargeError(input: Record<string, unknown>, cause: unknown): PayloadTooLargeError {
  const items: Record<string, AttributeValue>[] = [];
  if (isItem(input.Item)) items.push(input.Item);
  if (isItem(input.ExpressionAttributeValues)) items.push(input.ExpressionAttributeValues);
  for (const requests of Object.values((input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item?: unknown } }[]>)) {
    for (const request of requests) if (isItem(request.PutRequest?.Item)) items.push(request.PutRequest.Item);
  }
  let largest = items[0];
  for (const item of items) if (itemSize(item) > itemSize(largest!)) largest = item;
  const keyed = isItem(input.Key) ? input.Key : largest;
  const key = keyed ? [keyed[PARTITION_KEY]?.S, keyed[SORT_KEY]?.S].filter(Boolean).join(' ') : '';
  const error = new PayloadTooLargeError(`a DynamoDB item${key ? ` (${key})` : ''}`, largest ? itemSize(largest) : MAX_ITEM_BYTES + 1, MAX_ITEM_BYTES);
  (error as { cause?: unknown }).cause = cause;
  return error;
}

function isItem(value: unknown): value is Record<string, AttributeValue> {
  return typeof value === 'object' && value !== null;
}

/** Name of the middleware that maps the size rejection; adding it again replaces it. */
const ITEM_SIZE_MIDDLEWARE = 'durableTasksItemTooLarge';

/**
 * Makes every command sent through `client` reject an item over 400 KB with a `PayloadTooLargeError`
 * (keeping DynamoDB's error as `cause`) instead of the SDK's ValidationException. Idempotent per client.
 */
export function mapItemTooLarge<C extends InstrumentableClient>(client: C): C {
  client.middlewareStack.add(
    (next) => async (args: { input: Record<string, unknown> }) => {
      try {
        return await next(args);
      } catch (error) {
        if (isItemTooLarge(error)) throw itemTooLargeError(args.input, error);
        throw error;
      }
    },
    { step: 'initialize', name: ITEM_SIZE_MIDDLEWARE, override: true },
  );
  return client;
}
