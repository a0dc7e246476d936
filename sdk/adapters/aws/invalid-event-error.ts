import { DurableError } from '../../core/errors.ts';

/**
 * An EventBridge event handed to the event router is not a durable-tasks event: a field is missing or has
 * the wrong type. `field` names it as a path (`detail.key`, `detail-type`, ...).
 *
 * @example
 * try { parseEventBridgeEvent(event) } catch (e) { if (e instanceof InvalidEventError) console.error(e.field) }
 */
export class InvalidEventError extends DurableError {
  override name = 'InvalidEventError';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`invalid durable-tasks event: '${field}' ${detail}`);
  }
  override toData() {
    return { field: this.field };
  }
}
