import { DurableError, InvalidDefinitionError } from '../errors.ts';

/** `crons.create` with a name a cron already has (created or declared). */
export class CronAlreadyExistsError extends InvalidDefinitionError {
  override name = 'CronAlreadyExistsError';
  constructor(readonly cronName: string) {
    super(`a cron named '${cronName}' already exists; delete it first or pick another name`);
  }
  override toData() {
    return { cronName: this.cronName };
  }
}

/** `crons.delete` of a name no created cron has (a declared cron is removed from code, not deleted). */
export class CronNotFoundError extends DurableError {
  override name = 'CronNotFoundError';
  constructor(
    readonly cronName: string,
    reason = 'no cron has that name',
  ) {
    super(`cron '${cronName}' not found: ${reason}`);
  }
  override toData() {
    return { cronName: this.cronName };
  }
}
