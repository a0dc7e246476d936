import { DurableError } from '../errors.ts';

/** `runs.fork(runId, { fromStep })`: the run's journal holds no step with that name (so there is nothing to fork from). */
export class StepNotFoundError extends DurableError {
  override name = 'StepNotFoundError';
  constructor(
    readonly runId: string,
    readonly stepName: string,
  ) {
    super(`run '${runId}' recorded no step named '${stepName}' (in its latest attempt): nothing to fork from`);
  }
  override toData() {
    return { runId: this.runId, stepName: this.stepName };
  }
}

/**
 * `runs.fork` of a run that cannot be forked: one still in flight (QUEUED, RUNNING, WAITING: cancel it first, or
 * wait for it to end), a DAG workflow run or one of its task runs (fork works on durable task runs).
 */
export class RunNotForkableError extends DurableError {
  override name = 'RunNotForkableError';
  constructor(
    readonly runId: string,
    readonly reason: string,
  ) {
    super(`run '${runId}' cannot be forked: ${reason}`);
  }
  override toData() {
    return { runId: this.runId, reason: this.reason };
  }
}
