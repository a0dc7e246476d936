import { DurableError } from '../errors.ts';

/**
 * A recorded history (`durable.runs.export`) that cannot be replayed: not JSON, an unknown `format`, a
 * malformed field, or a history of another task than the one it is replayed against. The message names the
 * problem (and the field).
 *
 * @example
 * try { await replayHistory(task, history) } catch (e) { if (e instanceof InvalidHistoryError) console.error(e.message) }
 */
export class InvalidHistoryError extends DurableError {
  override name = 'InvalidHistoryError';
}
