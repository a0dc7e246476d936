/**
 * The three loads of issue 19, scaled down, replayed on the simulated account (world.ts), each checked by an
 * oracle: every start the client saw accepted ends SUCCEEDED with the right output (none lost), no logical start
 * made two runs and no run was resumed twice (none duplicated).
 */
import type { Durable } from '../../sdk/durable.ts';
import { median, percentile, round } from '../lib/stats.ts';
import { createWorld, type World } from './world.ts';
import { THROTTLING_ERROR_CODES } from './throttling-codes.ts';

export interface LoadResult {
  load: string;
  /** Load scale: the simulated load and every shared quota are this fraction of the real ones. */
  scale: number;
  runs: number;
  /** Runs completed per second in the simulation, and that times 1/scale (the AWS-scale figure it stands for). */
  runsPerSecond: number;
  awsScaleRunsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
  duplicated: number;
  /** Steps whose side effect ran again (a checkpoint write throttled after the step ran: at-least-once, by contract). */
  stepReruns: number;
  /** Start attempts the client retried after a throttling error (back-pressure reaching the caller). */
  startRetries: number;
  throttled: Record<string, number>;
  /** The most throttled partitions (quota and partition key). */
  hot: Record<string, number>;
  /** SDK attempts minus requests: retries the SDK's strategy made. */
  sdkRetries: number;
  lambdaPeak: number;
  lambdaLimit: number;
  notes: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isThrottle = (e: unknown) => THROTTLING_ERROR_CODES.includes((e as Error)?.name);

/** Starts with client-side retry on throttling (safe: a throttled write did nothing). */
async function start<T>(fn: () => Promise<T>, retries: { n: number }): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isThrottle(error) || attempt >= 30) throw error;
      retries.n++;
      await sleep(Math.min(2_000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2));
    }
  }
}

/** Offers `count` starts at `perSecond`, each through `fn`. */
async function offer(count: number, perSecond: number, fn: (i: number) => Promise<void>): Promise<void> {
  const t0 = performance.now();
  const all: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    all.push(fn(i));
  }
  await Promise.all(all);
}

/** Waits until `check` holds (polling the oracle store), or `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(100);
  }
  return false;
}

function summarize(world: World, load: string, scale: number, latencies: number[], spanMs: number, extra: Partial<LoadResult>): LoadResult {
  const requests = Object.values(world.backend.counter.snapshot()).reduce((a, b) => a + b, 0) - world.requestBaseline;
  const attempts = Object.values(world.edge.stats.attempts).reduce((a, b) => a + b, 0);
  const rps = latencies.length / Math.max(spanMs / 1000, 1e-3);
  return {
    load,
    scale,
    runs: latencies.length,
    runsPerSecond: round(rps, 1),
    awsScaleRunsPerSecond: Math.round(rps / scale),
    p50Ms: round(median(latencies), 1),
    p99Ms: round(percentile(latencies, 99), 1),
    lost: 0,
    duplicated: 0,
    stepReruns: 0,
    startRetries: 0,
    throttled: { ...world.edge.stats.throttled } as Record<string, number>,
    hot: Object.fromEntries(Object.entries(world.edge.stats.hot).sort((a, b) => b[1] - a[1]).slice(0, 5)),
    sdkRetries: Math.max(0, attempts - requests),
    lambdaPeak: world.lambda.peak,
    lambdaLimit: world.lambda.limit,
    notes: [],
    ...extra,
  };
}

/** Step side effects, by run and step: more than one means the step ran again. */
class Effects {
  readonly counts = new Map<string, number>();
  note(key: string) {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  reruns(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c - 1;
    return n;
  }
}

/** 10,000 run starts/s, scaled: each run two steps then done. */
export async function startsLoad(quick: boolean): Promise<LoadResult> {
  const scale = quick ? 1 / 2_000 : 1 / 500;
  const seconds = quick ? 1 : 5;
  const perSecond = 10_000 * scale;
  const effects = new Effects();
  let task!: ReturnType<Durable['durableTask']>;
  const world = await createWorld({
    scale,
    seed: 1,
    define: (durable) => [
      (task = durable.durableTask({
        name: 'sim-start',
        fn: async (input: { n: number }, ctx) => {
          const a = await ctx.step('a', async () => (effects.note(`${ctx.runId}/a`), input.n));
          const b = await ctx.step('b', async () => (effects.note(`${ctx.runId}/b`), a * 2));
          return b;
        },
      })),
    ],
  });
  try {
    world.start(5, 2_000);
    const accepted = new Map<number, { runId: string; at: number }>();
    const retries = { n: 0 };
    const t0 = Date.now();
    await offer(Math.round(perSecond * seconds), perSecond, async (n) => {
      const at = world.clock.now();
      const ref = await start(() => task.runNoWait({ n }, { metadata: { simKey: n } }), retries);
      accepted.set(n, { runId: ref.runId, at });
    });
    return await settle(world, 'starts', scale, accepted, effects, retries.n, t0, (n, out) => out === n * 2);
  } finally {
    await world.close();
  }
}

/** Reads every accepted run from the oracle until all have finished (or a time bound), then counts. */
async function settle(world: World, load: string, scale: number, accepted: Map<number, { runId: string; at: number }>, effects: Effects, startRetries: number, t0: number, ok: (n: number, output: unknown) => boolean, from?: (n: number) => number): Promise<LoadResult> {
  const done = new Map<number, number>();
  await until(async () => {
    for (const [n, { runId }] of accepted) {
      if (done.has(n)) continue;
      const run = await world.observer.getRun(runId);
      if (run?.status === 'SUCCEEDED' && ok(n, run.output === undefined ? undefined : JSON.parse(run.output))) done.set(n, run.updatedAt);
    }
    return done.size === accepted.size;
  }, 120_000);
  if (process.env.SIM_DEBUG) {
    const statuses: Record<string, number> = {};
    for (const { runId } of accepted.values()) {
      const run = await world.observer.getRun(runId);
      const k = `${run?.status} wake=${run?.wake} seen=${run?.seen} out=${run?.output}`;
      statuses[k] = (statuses[k] ?? 0) + 1;
    }
    // An unfinished run, with every request that named it (SIM_TRACE).
    for (const { runId } of accepted.values()) {
      const loaded = await world.observer.loadRun(runId);
      if (loaded?.run.status === 'SUCCEEDED') continue;
      console.error('unfinished', JSON.stringify(loaded));
      for (const tr of world.edge.trace) if (tr.input.includes(runId) || tr.outcome.includes(runId)) console.error('  ', tr.t, tr.name, tr.outcome.slice(0, 300), tr.input.slice(0, 1_500));
    }
    console.error('settle', load, JSON.stringify(statuses), JSON.stringify(world.stats), JSON.stringify(world.edge.stats.throttled));
  }
  const latencies = [...done].map(([n, end]) => end - (from ? from(n) : accepted.get(n)!.at));
  const first = from ? Math.min(...[...accepted.keys()].map(from)) : Math.min(...[...accepted.values()].map((a) => a.at));
  const last = Math.max(...done.values());
  // Duplicates: logical starts with more than one run (read by name from the listing index), and steps recorded twice.
  const perKey = new Map<number, number>();
  const name = (await world.observer.getRun([...accepted.values()][0]!.runId))!.name;
  let cursor: string | undefined;
  do {
    const page = await world.observer.listRuns({ name, limit: 100, ...(cursor ? { cursor } : {}) });
    for (const summary of page) {
      const run = await world.observer.getRun(summary.runId);
      const key = (run?.metadata as { simKey?: number } | undefined)?.simKey;
      if (key !== undefined) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    cursor = page.cursor;
  } while (cursor);
  const duplicated = [...perKey.values()].filter((c) => c > 1).length;
  void t0;
  return summarize(world, load, scale, latencies, last - first, {
    lost: accepted.size - done.size,
    duplicated,
    stepReruns: effects.reruns(),
    startRetries,
    notes: [`offered ${Math.round(10_000 * scale * 10) / 10} starts/s for the scaled load; ${world.stats.workerInvocations} worker invocations, ${world.stats.failedRecords} records left for redelivery, ${world.stats.redispatched} runs redispatched by the sweeper`],
  });
}

/** 1,000,000 parked runs, scaled: runs park on a 1-hour sleep (an EventBridge Scheduler schedule each); the hour passes; all wake at once. */
export async function parkedLoad(quick: boolean): Promise<LoadResult> {
  const scale = 1 / 200;
  const count = quick ? 5 : 100;
  const effects = new Effects();
  let task!: ReturnType<Durable['durableTask']>;
  const world = await createWorld({
    scale,
    seed: 2,
    define: (durable) => [
      (task = durable.durableTask({
        name: 'sim-parked',
        fn: async (input: { n: number }, ctx) => {
          await ctx.step('before', async () => effects.note(`${ctx.runId}/before`));
          await ctx.sleepFor('1h');
          return ctx.step('after', async () => (effects.note(`${ctx.runId}/after`), input.n + 1));
        },
      })),
    ],
  });
  try {
    // The sweeper runs during the set-up, as in production (every minute), and is paused for the window, so every
    // wake after the hour comes from a schedule.
    world.start(5, 2_000);
    const accepted = new Map<number, { runId: string; at: number }>();
    const retries = { n: 0 };
    await offer(count, 10_000 * scale, async (n) => {
      const ref = await start(() => task.runNoWait({ n }, { metadata: { simKey: n } }), retries);
      accepted.set(n, { runId: ref.runId, at: world.clock.now() });
    });
    const parkStart = Math.min(...[...accepted.values()].map((a) => a.at));
    // Parked: every run WAITING on its hour timer. A run whose park write stayed throttled through the SDK's retries
    // gives its lease back; SQS redelivers its message, unless a duplicate delivery found the lease held and was
    // deleted: then the sweeper redispatches it (it re-decides the sleep, which was never recorded).
    const parkedOnTimer = async (runId: string) => {
      const run = await world.observer.getRun(runId);
      return run?.status === 'WAITING' && (run.wakeAt ?? 0) > world.clock.now() + 1_800_000;
    };
    await until(async () => {
      for (const { runId } of accepted.values()) if (!(await parkedOnTimer(runId))) return false;
      return true;
    }, 120_000);
    await world.pauseSweeper();
    const unparked: string[] = [];
    for (const { runId } of accepted.values()) if (!(await parkedOnTimer(runId))) unparked.push(runId);
    if (unparked.length) throw new Error(`parked load: ${unparked.length} runs not parked on their timer after the set-up (${unparked.slice(0, 3).join(', ')})`);
    const parkedAt = world.clock.now();
    const parkedPerSecond = count / Math.max((parkedAt - parkStart) / 1000, 1e-3);
    // The hour passes: every schedule is due now.
    world.clock.offset += 3_600_000;
    const dueAt = world.clock.now();
    const result = await settle(world, 'parked', scale, accepted, effects, retries.n, dueAt, (n, out) => out === n + 1, () => dueAt);
    result.notes.push(`parked ${count} runs at ${round(parkedPerSecond, 1)}/s (${Math.round(parkedPerSecond / scale)}/s at AWS scale); ${world.stats.schedulesCreated} schedules created, ${world.stats.schedulesFired} fired; latency is due -> finished`);
    return result;
  } finally {
    await world.close();
  }
}

/** One event key with 100,000 waiters, scaled: the runs park on it, one push resumes them all. */
export async function waitersLoad(quick: boolean): Promise<LoadResult> {
  // Quick: 500 waiters at 1/50 (10 runs); full: 100,000 at 1/500 (200 runs) with 32 sweep shards, the setting
  // the capacity model gives for this fan-out (4 take about 2,000 wakes/s).
  const scale = quick ? 1 / 50 : 1 / 500;
  const count = quick ? 10 : 200;
  const shards = quick ? { sweep: 4, waiter: 4 } : { sweep: 32, waiter: 4 };
  const effects = new Effects();
  let task!: ReturnType<Durable['durableTask']>;
  const world = await createWorld({
    scale,
    seed: 3,
    shards,
    define: (durable) => [
      (task = durable.durableTask({
        name: 'sim-waiter',
        fn: async (input: { n: number }, ctx) => {
          const payload = (await ctx.waitForEvent('sim:go', '')) as { go: number };
          return ctx.step('after', async () => (effects.note(`${ctx.runId}/after`), input.n + payload.go));
        },
      })),
    ],
  });
  try {
    world.start(5, 2_000);
    const accepted = new Map<number, { runId: string; at: number }>();
    const retries = { n: 0 };
    // Set-up: the runs register their waits with no quota (registration on one key is bounded by the key's
    // sequence item, about 3,000 consistent reads/s: README, "Capacity model"); the push is what is measured.
    world.edge.enforcing = false;
    await offer(count, 200, async (n) => {
      const ref = await start(() => task.runNoWait({ n }, { metadata: { simKey: n } }), retries);
      accepted.set(n, { runId: ref.runId, at: world.clock.now() });
    });
    await until(async () => {
      for (const { runId } of accepted.values()) if ((await world.observer.getRun(runId))?.status !== 'WAITING') return false;
      return true;
    }, 60_000);
    world.edge.enforcing = true;
    world.resetStats();
    const pushedAt = world.clock.now();
    await start(() => world.durable.events.push('sim:go', { go: 1_000 }), retries);
    const result = await settle(world, 'waiters', scale, accepted, effects, retries.n, pushedAt, (n, out) => out === n + 1_000, () => pushedAt);
    // A run woken again by a retried router invocation (it died between its journal write and its wake) replays
    // and finds its outcome recorded: an extra wake, not a duplicate (the 'after' step ran once: stepReruns).
    const wakes = await Promise.all([...accepted.values()].map(async ({ runId }) => (await world.observer.getRun(runId))?.wake ?? 0));
    result.notes.push(`${count} waiters on one key (${1 / scale}x: ${Math.round(count / scale)}), sweepShards ${shards.sweep}; ${world.stats.routerInvocations} router invocations (${world.stats.routerRetries} retried by EventBridge); ${wakes.filter((w) => w > 1).length} runs woken more than once; latency is push -> finished`);
    return result;
  } finally {
    await world.close();
  }
}
