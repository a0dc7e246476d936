/**
 * The cursor of `runs.list`: where the previous page stopped, as the listing order's key of the last run it looked
 * at (`<createdAt, 15 digits>#<runId>`; newest first means each page reads keys below it). Opaque to callers; the
 * same on every backend, so it holds no per-shard or per-process state.
 */
import { DurableError } from './errors.ts';

const VERSION = 'l1';

/** The listing order's key of a run: greater is newer. */
export function listSortKey(createdAt: number, runId: string): string {
  return `${String(Math.max(0, Math.trunc(createdAt))).padStart(15, '0')}#${runId}`;
}

export function encodeListCursor(sortKey: string): string {
  return Buffer.from(`${VERSION}:${sortKey}`, 'utf8').toString('base64url');
}

/** @throws {DurableError} on anything `encodeListCursor` did not produce. */
export function decodeListCursor(cursor: unknown): string {
  const text = typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const sortKey = text.slice(VERSION.length + 1);
  if (!text.startsWith(`${VERSION}:`) || !/^\d{15}#./.test(sortKey)) {
    throw new DurableError(`invalid runs.list cursor '${String(cursor)}': pass the \`cursor\` of a page runs.list returned`);
  }
  return sortKey;
}
