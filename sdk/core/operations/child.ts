/**
 * `ctx.runChild(task, input)` and `ctx.spawnChild(task, input)`: a child run started at the call's position, with
 * the deterministic id `<run>.<attempt>.<position>` (so every replay names the same child, created once).
 *
 * - runChild: recorded, the child's outcome answers (the child wrote it into this journal when it finished:
 *   journal-writer.ts's `recordChildOutcome`, from executor.ts's notifyParent); a registered `child` waiter, park;
 *   new ground, create the child, register its waiter (wait.ts), dispatch it and park.
 * - spawnChild: recorded, a reference to the child; new ground, create the child (with no parent position: it
 *   reports to nobody) and record its id first-wins; the replay that won dispatches it.
 */
import { TaskDefinition, WorkflowDefinition, type RunRef } from '../definitions.ts';
import { InvalidDefinitionError } from '../errors.ts';
import { encodePayload } from '../json.ts';
import type { JournalScope } from './fan-out.ts';
import { Fatal, answer, expect, newEntry, type OperationHost } from './host.ts';
import { dropWaiters, registerChildWaiter } from './wait.ts';

/** `ctx.runChild(task, input)`: the child's output (or its error), once it finishes. */
export function runChild<I, O>(host: OperationHost, task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I, scope: JournalScope): Promise<O> {
  const name = childName(task);
  return host.durable(async (position) => {
    const recorded = host.entries.get(position);
    if (recorded) {
      expect(host, position, recorded, 'child', name);
      const leftovers = host.waiters.get(position);
      if (leftovers) await dropWaiters(host, leftovers);
      return answer<O>(host, recorded);
    }
    const waiting = host.waiters.get(position);
    if (waiting) {
      expect(host, position, { kind: waiting[0]!.opKind, name: waiting[0]!.opName }, 'child', name);
      return host.park(position, undefined);
    }
    const childRunId = `${host.runId}.${host.attempt}.${position}`;
    const encoded = encodePayload(input, `child '${name}' input`, host.limit) ?? 'null';
    await host.services.createChildRun(host.runItem, position, task, encoded, childRunId).catch((e) => Promise.reject(new Fatal(e, false, true)));
    await registerChildWaiter(host, position, name, childRunId);
    await host.backend.dispatcher.dispatch({ runId: childRunId });
    return host.park(position, undefined);
  }, scope);
}

/** `ctx.spawnChild(task, input)`: a reference to the started child. */
export function spawnChild<I, O>(host: OperationHost, task: TaskDefinition<I, O> | WorkflowDefinition<I>, input: I, scope: JournalScope): Promise<RunRef<O>> {
  const name = childName(task);
  return host.durable(async (position) => {
    const recorded = host.entries.get(position);
    if (recorded) {
      expect(host, position, recorded, 'spawn', name);
      return host.services.runRef((await answer<{ runId: string }>(host, recorded)).runId) as RunRef<O>;
    }
    const childRunId = `${host.runId}.${host.attempt}.${position}`;
    const encoded = encodePayload(input, `child '${name}' input`, host.limit) ?? 'null';
    await host.services.createChildRun({ ...host.runItem }, -1, task, encoded, childRunId).catch((e) => Promise.reject(new Fatal(e, false, true)));
    const { won, entry } = await host.journal.put(newEntry(host, position, 'spawn', name, { result: JSON.stringify({ runId: childRunId }) }));
    expect(host, position, entry, 'spawn', name);
    if (won) await host.backend.dispatcher.dispatch({ runId: childRunId });
    return host.services.runRef(childRunId) as RunRef<O>;
  }, scope);
}

function childName(task: TaskDefinition<any, any> | WorkflowDefinition<any>): string {
  if (task instanceof TaskDefinition && task.workflow) {
    throw new InvalidDefinitionError(`task '${task.name}' belongs to workflow '${task.workflow.name}': run the workflow as the child instead`);
  }
  if (!(task instanceof TaskDefinition) && !(task instanceof WorkflowDefinition)) {
    throw new InvalidDefinitionError('runChild/spawnChild need a task or workflow definition');
  }
  return task.name;
}
