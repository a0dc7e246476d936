/**
 * The DAG tests' one fixture. `useDagEnvironment()` gives every test of the file a fresh test environment
 * (created before the test, closed after it): `env` and `durable` below are that test's (live bindings, so a
 * file imports them once and each test sees its own). And the readings of a workflow run the tests make.
 */
import { afterEach, beforeEach } from 'vitest';
import type { Durable, RunDetails } from 'durable-tasks';
import { createTestEnvironment, type TestEnvironment } from 'durable-tasks/testing';

/** The current test's environment (set by `useDagEnvironment`). */
export let env: TestEnvironment;
/** The current test's client: `env.durable`. */
export let durable: Durable;

/** A fresh test environment for each test of the calling file. */
export function useDagEnvironment(): void {
  beforeEach(async () => {
    env = await createTestEnvironment();
    durable = env.durable;
  });
  afterEach(() => env.close());
}

type TaskView = NonNullable<RunDetails['tasks']>[number];

/** The tasks of a workflow run as `runs.get` shows them; a run without a task list is not a workflow run: an error. */
export async function tasksOf(runId: string, client: Durable = durable): Promise<TaskView[]> {
  const { tasks } = await client.runs.get(runId);
  if (!tasks) throw new Error(`run ${runId} has no task list`);
  return tasks;
}

/** Each task's status, by task name. */
export async function taskStatuses(runId: string, client: Durable = durable): Promise<Record<string, TaskView['status']>> {
  return Object.fromEntries((await tasksOf(runId, client)).map((t) => [t.name, t.status]));
}

/** One task of a workflow run (an error if the run has no such task). */
export async function taskOf(runId: string, name: string, client: Durable = durable): Promise<TaskView> {
  const task = (await tasksOf(runId, client)).find((t) => t.name === name);
  if (!task) throw new Error(`run ${runId} has no task '${name}'`);
  return task;
}
