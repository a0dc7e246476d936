/**
 * `durable.runs.export(runId)`: a run's history as plain JSON (format 1, see format.ts), read with the same
 * one paginated Query a replay uses (plus one for the workflow run of a DAG task run).
 */
import type { Backend } from '../../ports.ts';
import { RunNotFoundError } from '../errors.ts';
import { fetchPayloads } from '../run-view.ts';
import { toHistory, type RunHistory } from './format.ts';

/** @throws {RunNotFoundError} */
export async function exportRun(backend: Backend, runId: string): Promise<RunHistory> {
  const loaded = await backend.store.loadRun(runId);
  if (!loaded) throw new RunNotFoundError(runId);
  const workflow = loaded.run.workflowRunId ? await backend.store.loadRun(loaded.run.workflowRunId) : undefined;
  // A history is self-contained: large payloads kept in S3 are fetched into it.
  return toHistory(await fetchPayloads(backend.payloads, loaded), backend.clock.now(), workflow && (await fetchPayloads(backend.payloads, workflow)));
}
