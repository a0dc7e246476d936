/**
 * The orchestrator: what a worker does when it leases a workflow run. It never runs user code. One pass
 * reads the run's partition (task states, gate waiters, journal), walks the tasks parents-first and moves
 * each one forward with first-wins task-state writes, then finishes the run or parks it like a durable wait
 * (conditional on the lease and on the wake counter, so a task run that reports meanwhile is never lost).
 * See ARCHITECTURE.md in this folder.
 */
import type { Backend, JournalEntry, LoadedRun, RunRecord, RunStatus, SerializedError, TaskState, Waiter } from '../../ports.ts';
import { TERMINAL_STATUSES } from '../../ports.ts';
import { WorkflowDefinition, type TaskDefinition } from '../definitions.ts';
import type { Engine } from '../engine.ts';
import { PayloadTooLargeError, serializeError } from '../errors.ts';
import { finalizeCancelled, finish, suspendRun, type ExecutorDeps, type ProcessResult } from '../executor.ts';
import { runScopedStore } from '../run-scope.ts';
import { encodePayload } from '../json.ts';
import { isPayloadRef, readPayload, resolvePayload } from '../payloads.ts';
import { decide, gateWaiters as gateWaitersAt, needsWaiters, registerWaiters, removeGateWaiters, type GateDecision } from './gates.ts';
import { workflowGraph, type WorkflowGraph } from './graph.ts';
import { GATES, dagPosition, taskRunId, taskRunName } from './positions.ts';
import { REPAIR_AFTER_MS, outcomeOf, startTaskRun } from './task-runs.ts';

/** How a pass ended. */
type PassResult =
  | { type: 'succeeded'; output: string | undefined }
  | { type: 'failed'; error: SerializedError }
  | { type: 'cancelled' }
  | { type: 'waiting'; wakeAt: number | undefined }
  /** A first-wins write lost to a concurrent writer: re-read and go again. */
  | { type: 'conflict' };

/** Consecutive conflicting passes before the run is parked and re-dispatched instead (never spin). */
const MAX_CONFLICTS = 10;

/**
 * The executor's hook for every leased run: orchestrates workflow runs, returns undefined for the rest
 * (standalone runs and task runs, which the executor replays).
 */
export async function processWorkflow(engine: Engine, leased: RunRecord, deps: ExecutorDeps): Promise<ProcessResult | undefined> {
  if (leased.workflowRunId !== undefined) return undefined;
  const workflow = engine.registry.get(leased.name);
  if (!(workflow instanceof WorkflowDefinition)) return undefined;
  const { backend } = deps;
  let run = leased;
  let conflicts = 0;
  for (;;) {
    const loaded = await backend.store.loadRun(run.runId);
    if (!loaded) return 'skipped';
    // Task states and gate waiters carry the workflow run's generation and an item TTL (sdk/core/run-scope.ts).
    const scoped = { ...backend, store: runScopedStore(backend.store, run, deps.retentionSeconds, () => backend.clock.now()) };
    const result = await orchestrate(workflow, { ...loaded, run }, scoped, engine.payloadLimit(backend)).catch(tooLargeFails);
    switch (result.type) {
      case 'succeeded':
        return finish(run, deps, result.output === undefined ? { status: 'SUCCEEDED' } : { status: 'SUCCEEDED', output: result.output });
      case 'failed':
        return finish(run, deps, { status: 'FAILED', error: result.error });
      case 'cancelled':
        return finalizeCancelled(run, deps);
      case 'conflict':
        if (++conflicts < MAX_CONFLICTS) continue;
        return parkAndRedispatch(run, deps);
      case 'waiting': {
        const next = await suspendRun(run, result.wakeAt, 0, deps);
        if (next.type === 'again') {
          run = next.run;
          conflicts = 0;
          continue;
        }
        // A sleep that fell due during the pass: its timer may have fired while we held the lease.
        if (next.result === 'suspended' && result.wakeAt !== undefined && result.wakeAt <= backend.clock.now()) {
          await backend.dispatcher.dispatch({ runId: run.runId });
        }
        return next.result;
      }
    }
  }
}

/**
 * A task state the store rejects for its size (a task's output next to the event data that triggered it, over
 * DynamoDB's 400 KB) would be written again by every pass: it fails the workflow run instead of looping.
 */
function tooLargeFails(error: unknown): PassResult {
  if (error instanceof PayloadTooLargeError) return { type: 'failed', error: serializeError(error) };
  throw error;
}

async function parkAndRedispatch(run: RunRecord, deps: ExecutorDeps): Promise<ProcessResult> {
  const next = await suspendRun(run, deps.backend.clock.now() + 1_000, 0, deps);
  if (next.type === 'done' && next.result === 'suspended') await deps.backend.dispatcher.dispatch({ runId: run.runId }, { delayMs: 1_000 });
  return next.type === 'done' ? next.result : 'suspended';
}

/** One pass over the workflow run's state. */
class Pass {
  readonly now: number;
  readonly states: Map<string, TaskState>;
  readonly entries: Map<number, JournalEntry>;
  readonly waiters = new Map<number, Waiter[]>();
  wakeAt: number | undefined;

  constructor(
    readonly workflow: WorkflowDefinition<any>,
    readonly graph: WorkflowGraph,
    readonly loaded: LoadedRun,
    readonly backend: Backend,
  ) {
    this.now = backend.clock.now();
    this.states = new Map(loaded.tasks.map((t) => [t.task, t]));
    this.entries = new Map(loaded.entries.filter((e) => e.attempt === loaded.run.attempt).map((e) => [e.position, e]));
    for (const w of loaded.waiters) {
      if (w.attempt !== loaded.run.attempt) continue;
      const list = this.waiters.get(w.position) ?? [];
      list.push(w);
      this.waiters.set(w.position, list);
    }
  }

  get run(): RunRecord {
    return this.loaded.run;
  }

  /** Writes a task state iff it is still `expected` (absent when undefined); false when another writer won. */
  async put(state: TaskState, expected: RunStatus | readonly RunStatus[] | undefined): Promise<boolean> {
    const written = await this.backend.store.putTaskState(state, expected);
    if (written) this.states.set(state.task, state);
    return written;
  }

  gateWaitersOf(taskIndex: number): Waiter[] {
    return GATES.flatMap((gate) => this.waiters.get(dagPosition(taskIndex, gate)) ?? []);
  }

  later(wakeAt: number | undefined) {
    if (wakeAt !== undefined) this.wakeAt = this.wakeAt === undefined ? wakeAt : Math.min(this.wakeAt, wakeAt);
  }
}

async function orchestrate(workflow: WorkflowDefinition<any>, loaded: LoadedRun, backend: Backend, limit: number): Promise<PassResult> {
  let graph: WorkflowGraph;
  try {
    graph = workflowGraph(workflow);
  } catch (error) {
    return { type: 'failed', error: serializeError(error) };
  }
  const pass = new Pass(workflow, graph, loaded, backend);
  for (const task of graph.order) {
    const step = await advance(pass, task);
    if (step === 'conflict') return { type: 'conflict' };
    if (step === 'cancel-workflow') return { type: 'cancelled' };
  }
  return conclude(pass, limit);
}

/** Moves one task forward as far as its parents and gates allow. */
async function advance(pass: Pass, task: TaskDefinition<any, any>): Promise<'ok' | 'conflict' | 'cancel-workflow'> {
  const { backend, now, workflow } = pass;
  const name = task.name;
  const index = pass.graph.indexOf(name);
  const state = pass.states.get(name);
  if (state && TERMINAL_STATUSES.includes(state.status)) return 'ok';

  if (state && (state.status === 'QUEUED' || state.status === 'RUNNING')) {
    const report = pass.entries.get(dagPosition(index, 'outcome'));
    if (report && report.kind === 'child' && report.name === taskRunName(workflow.name, name)) {
      const { output: _o, error: _e, ...rest } = state;
      return (await pass.put({ ...rest, ...outcomeOf(report), updatedAt: now }, ['QUEUED', 'RUNNING'])) ? 'ok' : 'conflict';
    }
    if (state.status === 'QUEUED' && now - state.updatedAt >= REPAIR_AFTER_MS) await startTaskRun(backend, workflow.name, pass.run, name, index);
    // Until then, park with a wakeAt: if the pass that queued it died before creating the task run, nothing else
    // would ever wake this run to repair it (the sweeper only finds runs with a due wakeAt).
    else if (state.status === 'QUEUED') pass.later(state.updatedAt + REPAIR_AFTER_MS);
    return 'ok';
  }

  // Not decided yet (absent, or WAITING on its gates).
  const waiting = pass.gateWaitersOf(index);
  const parents = task.spec.parents.map((p) => pass.states.get(p));
  const broken = task.spec.parents.find((_, i) => parents[i]?.status === 'FAILED' || parents[i]?.status === 'CANCELLED');
  if (broken !== undefined) {
    const status = pass.states.get(broken)!.status.toLowerCase();
    const error = plainError('DurableError', `not run: its parent '${broken}' ${status}`);
    if (!(await pass.put({ workflowRunId: pass.run.runId, task: name, status: 'CANCELLED', error, updatedAt: now }, state?.status))) return 'conflict';
    await removeGateWaiters(backend, waiting);
    return 'ok';
  }
  if (!parents.every((p) => p?.status === 'SUCCEEDED' || p?.status === 'SKIPPED')) return 'ok';

  // Parents done: register the gates (once), then see whether one decides.
  let since = state?.updatedAt ?? now;
  let gateWaiters = waiting;
  if (!state && needsWaiters(task.spec)) {
    if (waiting.length > 0) {
      since = waiting[0]!.since; // registered by a pass that crashed before recording WAITING
    } else {
      gateWaiters = await registerWaiters(backend, gateWaitersAt(task.spec, index, pass.run.runId, pass.run.attempt, now));
      for (const w of gateWaiters) pass.waiters.set(w.position, [...(pass.waiters.get(w.position) ?? []).filter((x) => x.index !== w.index), w]);
    }
  }
  let decision: GateDecision | { type: 'fail'; error: SerializedError };
  try {
    decision = decide({
      spec: task.spec,
      taskIndex: index,
      since,
      now,
      parents: new Map(await Promise.all(task.spec.parents.map(async (p) => [p, await withOutput(backend, pass.states.get(p)!)] as const))),
      entries: pass.entries,
      waiters: pass.waiters,
    });
  } catch (error) {
    decision = { type: 'fail', error: serializeError(error) };
  }
  const base = { workflowRunId: pass.run.runId, task: name, updatedAt: now };
  const expected = state?.status;
  switch (decision.type) {
    case 'pending':
      pass.later(decision.wakeAt);
      if (state) return 'ok';
      return (await pass.put({ ...base, status: 'WAITING', updatedAt: since }, undefined)) ? 'ok' : 'conflict';
    case 'run': {
      const runId = taskRunId(pass.run.runId, name);
      const queued: TaskState = { ...base, status: 'QUEUED', taskRunId: runId };
      if (Object.keys(decision.triggers).length > 0) queued.triggers = decision.triggers; // a task without waitFor has none
      if (!(await pass.put(queued, expected))) return 'conflict';
      await removeGateWaiters(backend, gateWaiters);
      await startTaskRun(backend, workflow.name, pass.run, name, index);
      return 'ok';
    }
    case 'skip':
      if (!(await pass.put({ ...base, status: 'SKIPPED', triggers: decision.triggers }, expected))) return 'conflict';
      await removeGateWaiters(backend, gateWaiters);
      return 'ok';
    case 'cancel': {
      const error = plainError('RunCancelledError', `task '${name}' was cancelled by its cancelIf, and with it workflow run '${pass.run.runId}'`);
      if (!(await pass.put({ ...base, status: 'CANCELLED', triggers: decision.triggers, error }, expected))) return 'conflict';
      await removeGateWaiters(backend, gateWaiters);
      return 'cancel-workflow';
    }
    case 'fail':
      if (!(await pass.put({ ...base, status: 'FAILED', error: decision.error }, expected))) return 'conflict';
      await removeGateWaiters(backend, gateWaiters);
      return 'ok';
  }
}

/**
 * Once every task is terminal the run finishes: FAILED if a task failed (its error, naming the task), else
 * CANCELLED if a task was cancelled, else SUCCEEDED with `{ [task]: output }` for every task that ran.
 */
async function conclude(pass: Pass, limit: number): Promise<PassResult> {
  const { workflow, states } = pass;
  const all = workflow.tasks.map((t) => states.get(t.name));
  if (!all.every((s) => s !== undefined && TERMINAL_STATUSES.includes(s.status))) return { type: 'waiting', wakeAt: pass.wakeAt };
  const failed = (all as TaskState[]).filter((s) => s.status === 'FAILED').sort((a, b) => a.updatedAt - b.updatedAt)[0];
  if (failed) {
    const error = failed.error ?? plainError('DurableError', 'failed');
    return { type: 'failed', error: { ...error, message: `task '${failed.task}' failed: ${error.message}` } };
  }
  if (all.some((s) => s!.status === 'CANCELLED')) return { type: 'cancelled' };
  const output: Record<string, unknown> = {};
  for (const task of workflow.tasks) {
    const state = states.get(task.name)!;
    // A task that ran and returned nothing still shows it ran; skipped tasks are absent (as Hatchet).
    if (state.status === 'SUCCEEDED') output[task.name] = state.output === undefined ? null : await readPayload(pass.backend.payloads, state.output);
  }
  try {
    return { type: 'succeeded', output: encodePayload(output, `the output of workflow '${workflow.name}'`, limit) };
  } catch (error) {
    return { type: 'failed', error: serializeError(error) };
  }
}

/** A parent's task state with its output as JSON text (a large output fetched, for a ParentCondition). */
async function withOutput(backend: Backend, state: TaskState): Promise<TaskState> {
  return isPayloadRef(state.output) ? { ...state, output: (await resolvePayload(backend.payloads, state.output))! } : state;
}

function plainError(name: string, message: string): SerializedError {
  return { name, message };
}
