/**
 * The seed's DAG with conditions, in our API: `start` runs first; then `wait_for_event` waits for an event
 * or a minute, whichever comes first, while `skip_on_event` waits 30 s unless a skip event arrives first.
 */
import { Or, SleepCondition, UserEventCondition, type Durable, type WorkflowDefinition } from 'durable-tasks';

export const START_EVENT = 'wait_for_event:start';
export const SKIP_EVENT = 'skip_on_event:skip';

type StepOutput = { randomNumber: number };
const randomNumber = (): StepOutput => ({ randomNumber: 1 + Math.floor(Math.random() * 100) });

const registered = new WeakMap<Durable, WorkflowDefinition<Record<string, never>>>();

/** Defines the workflow on `durable` (once per client; later calls return the same definition). */
export function registerDagExample(durable: Durable): WorkflowDefinition<Record<string, never>> {
  const existing = registered.get(durable);
  if (existing) return existing;
  const wf = durable.workflow<Record<string, never>>({ name: 'TaskConditionWorkflow', description: "the seed's DAG with wait and skip conditions" });
  const start = wf.task({ name: 'start', fn: async (): Promise<StepOutput> => randomNumber() });
  wf.task({
    name: 'wait_for_event',
    parents: [start],
    waitFor: [Or(new SleepCondition('1m', 'sleep'), new UserEventCondition(START_EVENT, '', 'event'))],
    fn: async (_input, ctx) => ({ ...randomNumber(), triggeredBy: Object.keys(ctx.triggers()) }),
  });
  wf.task({
    name: 'skip_on_event',
    parents: [start],
    waitFor: [new SleepCondition('30s')],
    skipIf: [new UserEventCondition(SKIP_EVENT)],
    fn: async (): Promise<StepOutput> => randomNumber(),
  });
  registered.set(durable, wf);
  return wf;
}

/**
 * Runs the DAG end to end without waiting for its timers: once both conditional tasks are parked, it pushes
 * the skip event (skip_on_event is SKIPPED) and the start event (wait_for_event runs, triggered by it).
 */
export async function runDagExample(durable: Durable, log: (line: string) => void) {
  const wf = registerDagExample(durable);
  const ref = await wf.runNoWait({});
  await waitForTasks(durable, ref.runId, { wait_for_event: 'WAITING', skip_on_event: 'WAITING' });
  log(`TaskConditionWorkflow ${ref.runId}: start done, wait_for_event and skip_on_event parked on their conditions`);
  await durable.events.push(SKIP_EVENT, {});
  await durable.events.push(START_EVENT, { by: 'example' });
  const out = await ref.result();
  const tasks = (await durable.runs.get(ref.runId)).tasks ?? [];
  log(`TaskConditionWorkflow → ${JSON.stringify(out)} (${tasks.map((t) => `${t.name} ${t.status}`).join(', ')})`);
  return out;
}

/** Polls until the workflow run's tasks reach the given statuses. */
async function waitForTasks(durable: Durable, runId: string, expected: Record<string, string>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tasks = new Map(((await durable.runs.get(runId)).tasks ?? []).map((t) => [t.name, t.status]));
    if (Object.entries(expected).every(([name, status]) => tasks.get(name) === status)) return;
    if (Date.now() > deadline) throw new Error(`workflow run ${runId}: tasks are ${JSON.stringify(Object.fromEntries(tasks))}, expected ${JSON.stringify(expected)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
