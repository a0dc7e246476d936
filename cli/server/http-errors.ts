/**
 * How the dev server reports errors: `{ error: { name, message } }` with 404 for an unknown run, 400 for any
 * other `DurableError` (bad input, unknown task, bad payload) and for malformed requests, 500 otherwise.
 */
import { DurableError } from '../../sdk/index.ts';

/** A request the server rejects before reaching the engine. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ErrorResponse {
  status: number;
  body: { error: { name: string; message: string } };
}

export function toErrorResponse(error: unknown): ErrorResponse {
  const e = error instanceof Error ? error : new Error(String(error));
  const body = { error: { name: e.name, message: e.message } };
  if (e instanceof HttpError) return { status: e.status, body };
  if (e.name === 'RunNotFoundError' || e.name === 'CronNotFoundError') return { status: 404, body };
  if (e.name === 'CronAlreadyExistsError' || e.name === 'RunNotForkableError') return { status: 409, body };
  if (isDurableError(e)) return { status: 400, body };
  return { status: 500, body: { error: { name: e.name || 'Error', message: e.message || 'internal error' } } };
}

/**
 * `instanceof DurableError`, also across module instances (a user entry may load the sdk through the
 * package name while the CLI loads it by path).
 */
export function isDurableError(error: unknown): boolean {
  if (error instanceof DurableError) return true;
  for (let proto = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    if ((proto as { constructor?: { name?: string } }).constructor?.name === 'DurableError') return true;
  }
  return false;
}
