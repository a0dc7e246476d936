/**
 * Seeded generation of the workload's programs: a random mix of durable calls per run, a DAG workflow run now and
 * then, half the plain runs under one concurrency key, and a stream chunk after every op. The draws from the random
 * source are the schedule: change their order and every seed's schedule changes.
 */
import type { Random } from '../random.ts';
import { DAG_SLOTS, retriesOf, type BranchOp, type DagPlan, type EventSpec, type Program, type ProgramOp, type StepOp, type StepOrSleep, type TaskName } from './program.ts';

const SHARED_KEYS = 3;

function eventSpec(r: Random, id: string, label: string, options: { scoped: boolean }): EventSpec {
  const shared = r.chance(0.3);
  const key = shared ? `shared-${r.int(0, SHARED_KEYS - 1)}` : `${id}:${label}`;
  const n = r.int(1, 99);
  // `to` names the wait itself, so two waits (of this run or another) sharing a key never take each other's event.
  const to = `${id}/${label}`;
  const payload = { to, n, tag: 'go' };
  const clauses: string[] = [];
  const decoys: EventSpec['decoys'] = [];
  if (shared || r.chance(0.3)) {
    clauses.push(`input.to == "${to}"`);
    decoys.push({ payload: { ...payload, to: `${to}-other` } });
  }
  switch (r.int(0, 3)) {
    case 0:
      clauses.push(`input.n == ${n}`);
      decoys.push({ payload: { ...payload, n: n + 1 } });
      break;
    case 1:
      clauses.push(`input.n > ${n - 1} && input.tag == "go"`);
      decoys.push({ payload: { ...payload, tag: 'stop' } }, { payload: { ...payload, n: n - 1 } });
      // Fails to evaluate (string > int): the router logs it for this waiter and goes on.
      decoys.push({ payload: { ...payload, n: 'not a number' } });
      break;
    case 2:
      clauses.push(`input.tag in ["go", "start"]`);
      decoys.push({ payload: { ...payload, tag: 'halt' } });
      // No key 'tag': evaluation error.
      decoys.push({ payload: { to, n } });
      break;
    default:
      break;
  }
  const spec: EventSpec = { key, expr: clauses.join(' && '), payload, decoys };
  if (options.scoped && r.chance(0.35)) {
    const scope = `tenant-${r.int(1, 3)}`;
    spec.scope = scope;
    decoys.push({ payload, scope: `${scope}-other` }, { payload });
  }
  if (spec.expr === '' && spec.scope === undefined) {
    // Nothing to tell a decoy from the match on a private key: no decoys.
    spec.decoys = [];
  }
  return spec;
}

function stepOp(r: Random, name: string): StepOp {
  const retries = r.chance(0.3) ? r.int(1, 3) : 0;
  const failUntil = retries > 0 ? (r.chance(0.15) ? retries + 1 : r.int(0, retries)) : r.chance(0.05) ? 1 : 0;
  return { t: 'step', name, value: r.int(0, 1_000_000), failUntil, retries, backoff: retries > 0 && r.chance(0.5) };
}

function sleepMs(r: Random): number {
  return r.pick([1_000, 5_000, 30_000, 90_000, 10 * 60_000, 2 * 3_600_000]);
}

function dagProgram(r: Random, id: string, slot: number): Program {
  const steps = (label: string) =>
    Array.from({ length: r.int(0, 2) }, (_, i): StepOrSleep => (r.chance(0.7) ? stepOp(r, `${label}${i}`) : { t: 'sleep', ms: sleepMs(r) }));
  const payload = (tag: string) => ({ to: `${id}/${tag}`, n: 0, tag });
  const dag: DagPlan = {
    slot,
    n: r.int(0, 100),
    a: steps('a'),
    b: steps('b'),
    aFailsFirst: r.chance(0.2),
    gate: r.weighted({ go: 3, timer: 2, stop: 1 }),
    go: { key: `dag-${slot}-go`, expr: 'input.tag == "go"', payload: payload('go'), decoys: [{ payload: payload('nogo') }, { payload: { to: `${id}/go`, n: 0 } }] },
    stop: { key: `dag-${slot}-stop`, expr: '', payload: payload('stop'), decoys: [] },
    dFails: r.chance(0.1),
  };
  return { id, task: `chaos-dag-${slot}`, ops: [], dag };
}

/**
 * A random program; `depth` > 0 for child programs (no grandchildren, no cancel). `dagSlot`: the DAG workflow
 * slot this run may use (a DAG run instead of a durable task, sometimes).
 */
export function generateProgram(r: Random, id: string, depth = 0, dagSlot?: number): Program {
  if (depth === 0 && dagSlot !== undefined && dagSlot < DAG_SLOTS && r.chance(0.15)) return dagProgram(r, id, dagSlot);
  let task: TaskName = depth > 0 ? 'chaos-child' : r.chance(0.4) ? 'chaos-retry' : 'chaos';
  // Half of the plain runs go through one concurrency key (chosen from the id: the random stream is unchanged).
  const flow = task === 'chaos' && idHash(id) % 2 === 0;
  if (flow) task = 'chaos-flow';
  const ops: ProgramOp[] = [];
  const count = r.int(1, depth > 0 ? 3 : 6);
  for (let i = 0; i < count; i++) {
    const kind = r.weighted({ step: 4, sleep: 2, event: 2.5, timeout: 0.7, or: 1, and: 0.8, child: depth > 0 ? 0 : 1, parallel: 1, map: 0.8 });
    switch (kind) {
      case 'step':
        ops.push(stepOp(r, `s${i}`));
        break;
      case 'sleep':
        ops.push({ t: 'sleep', ms: sleepMs(r) });
        break;
      case 'event':
        ops.push({ t: 'event', event: eventSpec(r, id, `e${i}`, { scoped: true }) });
        break;
      case 'timeout':
        ops.push({ t: 'timeout', event: eventSpec(r, id, `t${i}`, { scoped: true }), ms: sleepMs(r) });
        break;
      case 'or': {
        const winner = r.chance(0.5) ? 'event' : 'sleep';
        ops.push({ t: 'or', event: eventSpec(r, id, `o${i}`, { scoped: false }), sleepMs: winner === 'event' ? 3 * 86_400_000 : sleepMs(r), winner });
        break;
      }
      case 'and': {
        const events = [eventSpec(r, id, `a${i}.0`, { scoped: false })];
        if (r.chance(0.6)) events.push(eventSpec(r, id, `a${i}.1`, { scoped: false }));
        const op: ProgramOp = { t: 'and', events };
        if (events.length === 1 || r.chance(0.3)) op.sleepMs = sleepMs(r);
        ops.push(op);
        break;
      }
      case 'child':
        ops.push({ t: 'child', program: generateProgram(r, `${id}.c${i}`, depth + 1) });
        break;
      case 'parallel': {
        const items: (StepOp | { t: 'event'; event: EventSpec } | { t: 'sleep'; ms: number })[] = [];
        const width = r.int(2, 3);
        for (let j = 0; j < width; j++) {
          items.push(r.chance(0.7) ? stepOp(r, `p${i}.${j}`) : { t: 'event', event: eventSpec(r, id, `p${i}.${j}`, { scoped: true }) });
        }
        if (r.chance(0.5)) {
          // A sleep beside slow steps: it falls due while they run (a timer message arriving mid-replay).
          // One slow step per parallel, its first execution only, and short: a program's slow steps together stay
          // well inside the 30 s lease (virtual time passing in a step is not seen by the real-time heartbeat).
          const ms = r.int(1, 2) * 1_000;
          items.push({ t: 'sleep', ms });
          const slow = items.find((item): item is StepOp => item.t === 'step');
          if (slow) slow.takesMs = ms + 1_000;
        }
        ops.push({ t: 'parallel', items });
        break;
      }
      case 'map': {
        const branches: BranchOp[][] = [];
        const width = r.int(2, 4);
        for (let j = 0; j < width; j++) {
          const branch: BranchOp[] = [];
          const length = r.int(1, 2);
          for (let k = 0; k < length; k++) {
            const kind = r.weighted({ step: 3, sleep: 1, event: 1 });
            if (kind === 'step') branch.push(stepOp(r, `m${i}.${j}.${k}`));
            else if (kind === 'sleep') branch.push({ t: 'sleep', ms: sleepMs(r) });
            else branch.push({ t: 'event', event: eventSpec(r, id, `m${i}.${j}.${k}`, { scoped: true }) });
          }
          branches.push(branch);
        }
        ops.push({ t: 'map', branches, maxConcurrency: r.int(1, 3) });
        break;
      }
    }
  }
  addStreamOps(ops);
  const program: Program = { id, task, ops };
  if (flow) program.group = 'g0';
  if (depth === 0 && r.chance(0.08)) {
    program.cancel = true;
    ops.push({ t: 'hold', key: `${id}:hold` });
    return program;
  }
  const retries = retriesOf(task);
  const fail = r.weighted({ none: 8, attempt0: retries > 0 ? 1.5 : 0, always: 0.5, nonretryable: 0.4, 'non-error': 0.4 });
  if (fail !== 'none') program.fail = fail;
  return program;
}

/**
 * A stream chunk after every op and at the start of every map branch. Added without drawing from the random
 * source, so a seed's schedule stays the one it was before streams existed, plus the chunks.
 */
function addStreamOps(ops: ProgramOp[]): void {
  const count = ops.length;
  for (let i = count - 1; i >= 0; i--) {
    const op = ops[i]!;
    if (op.t === 'map') op.branches.forEach((branch, j) => branch.unshift({ t: 'stream', tag: `m${i}.${j}` }));
    ops.splice(i + 1, 0, { t: 'stream', tag: `x${i}` });
  }
}

/** FNV-1a of a run id (picks the flow-controlled runs without drawing from the workload's random stream). */
function idHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

