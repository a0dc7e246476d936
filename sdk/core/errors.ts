import type { SerializedError } from '../ports.ts';

/**
 * Base class of every error durable-tasks raises. Each subclass sets `name`, keeps `cause`, and
 * round-trips through the journal (`serializeError` / `deserializeError`) so a replayed failure is the
 * same error with the same fields.
 *
 * @example
 * try { await task.run(input) } catch (e) { if (e instanceof DurableError) console.error(e.name, e.message) }
 */
export class DurableError extends Error {
  override name = 'DurableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
  /** Fields beyond name and message that describe this error; stored with it in the journal. */
  toData(): Record<string, unknown> | undefined {
    return undefined;
  }
}

/** A replay called durable operations in a different order than the recorded run: the code changed under a live run. */
export class NonDeterminismError extends DurableError {
  override name = 'NonDeterminismError';
  constructor(
    readonly position: number,
    readonly expected: string,
    readonly actual: string,
    /** Where the position is when it is not at the top level: `map 'charge-all' branch 3, operation 2`. */
    readonly where?: string,
  ) {
    super(
      `non-deterministic replay at position ${position}${where ? ` (${where})` : ''}: the journal recorded ${expected} but the code called ${actual}. ` +
        'Durable calls must happen in the same order on every replay; move branching on time or randomness into ctx.step.',
    );
  }
  override toData() {
    return { position: this.position, expected: this.expected, actual: this.actual, ...(this.where !== undefined ? { where: this.where } : {}) };
  }
}

export class WaitTimeoutError extends DurableError {
  override name = 'WaitTimeoutError';
  constructor(
    readonly eventKey: string,
    readonly timeoutMs: number,
  ) {
    super(`no event '${eventKey}' matched within ${timeoutMs} ms`);
  }
  override toData() {
    return { eventKey: this.eventKey, timeoutMs: this.timeoutMs };
  }
}

/** Thrown by user code to fail a task or step at once, without its remaining retries. */
export class NonRetryableError extends DurableError {
  override name = 'NonRetryableError';
}

/** A payload (input, output, step result, event) is over the size limit. Nothing is truncated. */
export class PayloadTooLargeError extends DurableError {
  override name = 'PayloadTooLargeError';
  constructor(
    readonly where: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`${where} is ${size} bytes serialised, over the ${limit}-byte limit${limit === 262_144 ? ' (256 KiB)' : ''}; store large data elsewhere and pass a reference`);
  }
  override toData() {
    return { where: this.where, size: this.size, limit: this.limit };
  }
}

/** A CEL expression failed to parse or type-check (at definition) or to evaluate (at run time). */
export class InvalidExpressionError extends DurableError {
  override name = 'InvalidExpressionError';
  constructor(
    readonly expression: string,
    readonly position: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `invalid CEL expression '${expression}'${position === undefined ? '' : ` at position ${position}`}: ${detail}`,
      options,
    );
  }
  override toData() {
    return { expression: this.expression, position: this.position };
  }
}

/** A duration is malformed, negative or not finite. */
export class InvalidDurationError extends DurableError {
  override name = 'InvalidDurationError';
  constructor(
    readonly value: unknown,
    detail: string,
  ) {
    super(`invalid duration ${describe(value)}: ${detail}. Use a number of milliseconds or a string like '5s', '2m', '1h', '1d'`);
  }
  override toData() {
    return { value: typeof this.value === 'number' || typeof this.value === 'string' ? this.value : String(this.value) };
  }
}

/** A definition or a message names a task this client or worker does not know. */
export class TaskNotFoundError extends DurableError {
  override name = 'TaskNotFoundError';
  constructor(readonly taskName: string, detail = 'no task or workflow with that name is registered on this worker') {
    super(`task '${taskName}' not found: ${detail}`);
  }
  override toData() {
    return { taskName: this.taskName };
  }
}

/** No run with that id exists. */
export class RunNotFoundError extends DurableError {
  override name = 'RunNotFoundError';
  constructor(readonly runId: string) {
    super(`run '${runId}' not found`);
  }
  override toData() {
    return { runId: this.runId };
  }
}

/** The run was cancelled (`runs.cancel`, a `cancelIf` condition, or its parent was cancelled). */
export class RunCancelledError extends DurableError {
  override name = 'RunCancelledError';
  constructor(readonly runId: string, reason = 'cancelled') {
    super(`run '${runId}' was ${reason}`);
  }
  override toData() {
    return { runId: this.runId };
  }
}

/** The task's running time (never its parked time) went over `executionTimeout`. */
export class ExecutionTimeoutError extends DurableError {
  override name = 'ExecutionTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`the task ran for more than its executionTimeout of ${timeoutMs} ms (time parked in waits does not count)`);
  }
  override toData() {
    return { timeoutMs: this.timeoutMs };
  }
}

/** A definition is invalid (bad name, duplicate name, DAG cycle, unknown parent, ...). */
export class InvalidDefinitionError extends DurableError {
  override name = 'InvalidDefinitionError';
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}

const registry: Record<string, (message: string, data: Record<string, unknown>) => Error> = {
  DurableError: (m) => new DurableError(m),
  NonDeterminismError: (_m, d) => new NonDeterminismError(Number(d.position), String(d.expected), String(d.actual), d.where === undefined ? undefined : String(d.where)),
  WaitTimeoutError: (_m, d) => new WaitTimeoutError(String(d.eventKey), Number(d.timeoutMs)),
  NonRetryableError: (m) => new NonRetryableError(m),
  PayloadTooLargeError: (_m, d) => new PayloadTooLargeError(String(d.where), Number(d.size), Number(d.limit)),
  InvalidExpressionError: (m, d) => withMessage(new InvalidExpressionError(String(d.expression), d.position as number | undefined, ''), m),
  InvalidDurationError: (m, d) => withMessage(new InvalidDurationError(d.value, ''), m),
  TaskNotFoundError: (m, d) => withMessage(new TaskNotFoundError(String(d.taskName)), m),
  RunNotFoundError: (_m, d) => new RunNotFoundError(String(d.runId)),
  RunCancelledError: (m, d) => withMessage(new RunCancelledError(String(d.runId)), m),
  ExecutionTimeoutError: (_m, d) => new ExecutionTimeoutError(Number(d.timeoutMs)),
  InvalidDefinitionError: (m) => new InvalidDefinitionError(m),
};

function withMessage<E extends Error>(error: E, message: string): E {
  error.message = message;
  return error;
}

/**
 * Turns anything thrown into plain data. A thrown non-Error becomes an Error whose message is `String(value)`.
 */
export function serializeError(thrown: unknown): SerializedError {
  const error = toError(thrown);
  const data = error instanceof DurableError ? error.toData() : undefined;
  const name = cap(error.name, MAX_ERROR_NAME_CHARS);
  const message = cap(error.message, MAX_ERROR_MESSAGE_CHARS);
  const out: SerializedError = { name: name.text, message: message.text };
  if (data) out.data = data;
  const stack = error.stack ? cap(error.stack, MAX_ERROR_STACK_CHARS) : undefined;
  if (stack) out.stack = stack.text;
  if (name.cut || message.cut || stack?.cut) out.truncated = true;
  return out;
}

/**
 * How much of an error is stored (journal, run item, task state). A thrown error can be any size, and an
 * item DynamoDB rejects (over 400 KB) could never be written: the run would be retried for ever. At these caps
 * an error costs at most ~100 KB (3 bytes a character), so it fits next to a 256 KiB input.
 */
export const MAX_ERROR_MESSAGE_CHARS = 8_192;
export const MAX_ERROR_STACK_CHARS = 16_384;
const MAX_ERROR_NAME_CHARS = 256;
const TRUNCATION_NOTE = /\.\.\. \[truncated: \d+ of \d+ characters kept\]$/;

/** The first `max` characters of `text`, marked when cut (never splitting a surrogate pair). */
function cap(text: string, max: number): { text: string; cut: boolean } {
  if (text.length <= max) return { text, cut: false };
  // Capped already (a stored step error, thrown again by the replay): keep it as it is, not cut twice.
  const note = TRUNCATION_NOTE.exec(text);
  if (note && note.index <= max) return { text, cut: true };
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return { text: `${text.slice(0, end)}... [truncated: ${end} of ${text.length} characters kept]`, cut: true };
}

/** Rebuilds the error class named in `serialized` (durable-tasks' own classes), or a plain Error with that name. */
export function deserializeError(serialized: SerializedError): Error {
  const make = registry[serialized.name];
  const error = make ? make(serialized.message, serialized.data ?? {}) : new Error(serialized.message);
  if (!make) error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  return error;
}

/** Normalises a thrown value into an Error (message `String(value)` for non-Errors). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  let message: string;
  try {
    message = String(thrown);
  } catch {
    message = Object.prototype.toString.call(thrown);
  }
  return new Error(message);
}

/** The user-facing shape of an error in `runs.get`: plain data. */
export function publicError(serialized: SerializedError): { name: string; message: string } {
  return { name: serialized.name, message: serialized.message };
}
