import type { RunRecord } from '../ports.ts';
import { newGeneration } from './run-scope.ts';
import { currentTraceparent } from './tracing.ts';

/** A new run item, queued (or waiting until `wakeAt`), before its first attempt, with a fresh generation. */
export function newRunRecord(
  fields: Pick<RunRecord, 'runId' | 'name' | 'input'> & Partial<Pick<RunRecord, 'wakeAt' | 'metadata' | 'parent' | 'workflowRunId'>>,
  now: number,
): RunRecord {
  const run: RunRecord = {
    ...fields,
    generation: newGeneration(),
    status: fields.wakeAt !== undefined ? 'WAITING' : 'QUEUED',
    createdAt: now,
    updatedAt: now,
    attempt: 0,
    wake: 0,
    seen: 0,
    runningMs: 0,
  };
  const traceparent = currentTraceparent();
  if (traceparent) run.traceparent = traceparent;
  for (const key of ['wakeAt', 'metadata', 'parent', 'workflowRunId'] as const) if (run[key] === undefined) delete run[key];
  return run;
}
