import type {
  JournalEntry,
  ListRunsQuery,
  LoadedRun,
  RequestCounter,
  RunClause,
  RunCondition,
  RunPatch,
  RunRecord,
  RunStatus,
  RunStore,
  StoredEvent,
  TaskState,
  Waiter,
} from '../../ports.ts';
import { clausesOf } from '../../ports.ts';
import { mergeJournal } from '../../core/journal.ts';

interface RunSlot {
  run: RunRecord;
  /** key `${attempt}:${position}` */
  entries: Map<string, JournalEntry>;
  /** The entries each entry item carries (see `RunStore.putEntry`), by the same key. */
  carried: Map<string, JournalEntry[]>;
  /** key `${attempt}:${position}:${index}` */
  waiters: Map<string, Waiter>;
  tasks: Map<string, TaskState>;
}

const entryKey = (attempt: number, position: number) => `${attempt}:${position}`;
const waiterKey = (w: Pick<Waiter, 'attempt' | 'position' | 'index'>) => `${w.attempt}:${w.position}:${w.index}`;

/**
 * In-process RunStore with the same semantics as the DynamoDB one: single-item conditional writes,
 * first-wins journal entries. Objects are copied in and out so callers can never mutate stored state.
 */
export class MemoryRunStore implements RunStore {
  private readonly runs = new Map<string, RunSlot>();
  /** eventKey → waiter keys `${runId}|${attempt}:${position}:${index}` */
  private readonly waiterIndex = new Map<string, Set<string>>();
  private readonly events = new Map<string, StoredEvent[]>();
  /** eventKey → the last number of its event sequence taken. */
  private readonly sequences = new Map<string, number>();

  constructor(
    private readonly counter?: RequestCounter,
    private readonly now: () => number = Date.now,
  ) {}

  private count(op: string) {
    this.counter?.count(`Memory.${op}`);
  }

  async createRun(run: RunRecord): Promise<boolean> {
    this.count('createRun');
    if (this.runs.has(run.runId)) return false;
    this.runs.set(run.runId, { run: structuredClone(run), entries: new Map(), carried: new Map(), waiters: new Map(), tasks: new Map() });
    return true;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    this.count('getRun');
    const slot = this.live(runId);
    return slot ? copyRun(slot.run) : undefined;
  }

  async listRuns(query: ListRunsQuery): Promise<RunRecord[]> {
    this.count('listRuns');
    const out: RunRecord[] = [];
    const now = this.now();
    for (const { run } of this.runs.values()) {
      if (expired(run.ttl, now)) continue;
      if (query.status && run.status !== query.status) continue;
      if (query.name && run.name !== query.name) continue;
      out.push(copyRun(run));
    }
    out.sort((a, b) => b.createdAt - a.createdAt || (a.runId < b.runId ? 1 : -1));
    return query.limit === undefined ? out : out.slice(0, query.limit);
  }

  async updateRun(runId: string, patch: RunPatch, condition?: RunCondition): Promise<RunRecord | undefined> {
    this.count('updateRun');
    const slot = this.live(runId);
    if (!slot) return undefined;
    if (condition && !holds(slot.run, condition)) return undefined;
    const run = slot.run;
    if (patch.set) Object.assign(run, structuredClone(patch.set));
    for (const field of patch.remove ?? []) delete run[field];
    if (patch.incrementWake) run.wake += 1;
    if (patch.markSeen) run.seen = run.wake;
    if (patch.addRunningMs) run.runningMs += patch.addRunningMs;
    return copyRun(run);
  }

  async loadRun(runId: string): Promise<LoadedRun | undefined> {
    this.count('loadRun');
    const slot = this.live(runId);
    if (!slot) return undefined;
    const items = [...slot.entries.entries()].map(([key, entry]) => ({ entry: { ...entry }, carried: carriedBy(slot, key) }));
    const { entries, parked } = mergeJournal(items, (slot.run.parkedEntries ?? []).map((e) => ({ ...e })));
    const now = this.now();
    const waiters = [...slot.waiters.values()].filter((w) => !expired(w.ttl, now)).map((w) => ({ ...w }));
    waiters.sort((a, b) => a.attempt - b.attempt || a.position - b.position || a.index - b.index);
    const tasks = [...slot.tasks.values()].map((t) => ({ ...t }));
    return { run: copyRun(slot.run), entries, parked, waiters, tasks };
  }

  async putEntry(runId: string, entry: JournalEntry, carried: readonly JournalEntry[] = []): Promise<{ won: boolean; entry: JournalEntry; carried: JournalEntry[] }> {
    this.count('putEntry');
    const slot = this.mustGet(runId);
    const key = entryKey(entry.attempt, entry.position);
    const existing = slot.entries.get(key);
    if (existing) return { won: false, entry: { ...existing }, carried: carriedBy(slot, key) };
    slot.entries.set(key, { ...entry });
    if (carried.length) slot.carried.set(key, carried.map((e) => ({ ...e })));
    return { won: true, entry: { ...entry }, carried: carried.map((e) => ({ ...e })) };
  }

  async updateRetryingEntry(runId: string, entry: JournalEntry, expectedStepAttempt: number): Promise<boolean> {
    this.count('updateRetryingEntry');
    const slot = this.mustGet(runId);
    const key = entryKey(entry.attempt, entry.position);
    const existing = slot.entries.get(key);
    if (!existing || existing.status !== 'retrying' || existing.stepAttempt !== expectedStepAttempt) return false;
    slot.entries.set(key, { ...entry });
    return true;
  }

  async putWaiters(waiters: readonly Waiter[]): Promise<void> {
    this.count('putWaiters');
    for (const waiter of waiters) {
      const slot = this.mustGet(waiter.runId);
      slot.waiters.set(waiterKey(waiter), { ...waiter });
      if (waiter.type === 'event' && waiter.eventKey !== undefined) {
        let set = this.waiterIndex.get(waiter.eventKey);
        if (!set) this.waiterIndex.set(waiter.eventKey, (set = new Set()));
        set.add(`${waiter.runId}|${waiterKey(waiter)}`);
      }
    }
  }

  async deleteWaiters(waiters: readonly Pick<Waiter, 'runId' | 'attempt' | 'position' | 'index'>[]): Promise<void> {
    this.count('deleteWaiters');
    for (const ref of waiters) {
      const slot = this.runs.get(ref.runId);
      const key = waiterKey(ref);
      const waiter = slot?.waiters.get(key);
      if (!slot || !waiter) continue;
      slot.waiters.delete(key);
      if (waiter.eventKey !== undefined) this.waiterIndex.get(waiter.eventKey)?.delete(`${ref.runId}|${key}`);
    }
  }

  async findWaiters(eventKey: string): Promise<Waiter[]> {
    this.count('findWaiters');
    const out: Waiter[] = [];
    const now = this.now();
    for (const ref of this.waiterIndex.get(eventKey) ?? []) {
      const [runId, key] = ref.split('|') as [string, string];
      const waiter = this.runs.get(runId)?.waiters.get(key);
      if (waiter && waiter.type === 'event' && waiter.eventKey === eventKey && !expired(waiter.ttl, now)) out.push({ ...waiter });
    }
    return out;
  }

  async takeEventSequence(key: string): Promise<number> {
    this.count('takeEventSequence');
    const next = (this.sequences.get(key) ?? 0) + 1;
    this.sequences.set(key, next);
    return next;
  }

  async eventSequence(key: string): Promise<number> {
    this.count('eventSequence');
    return this.sequences.get(key) ?? 0;
  }

  async recordEvent(event: StoredEvent): Promise<void> {
    this.count('recordEvent');
    let list = this.events.get(event.key);
    if (!list) this.events.set(event.key, (list = []));
    // Same key as the DynamoDB item (key, seq, eventId): a redelivered event overwrites, never duplicates.
    const same = list.findIndex((e) => e.eventId === event.eventId && e.seq === event.seq);
    if (same >= 0) list[same] = { ...event };
    else list.push({ ...event });
  }

  async findEvents(key: string, since: number, afterSeq?: number): Promise<StoredEvent[]> {
    this.count('findEvents');
    const now = this.now();
    return (this.events.get(key) ?? [])
      .filter((e) => (e.time >= since || (afterSeq !== undefined && e.seq > afterSeq)) && !expired(e.ttl, now))
      .sort((a, b) => a.time - b.time || a.seq - b.seq)
      .map((e) => ({ ...e }));
  }

  async putTaskState(state: TaskState, expectedStatus?: RunStatus | readonly RunStatus[]): Promise<boolean> {
    this.count('putTaskState');
    const slot = this.mustGet(state.workflowRunId);
    const existing = slot.tasks.get(state.task);
    if (expectedStatus === undefined) {
      if (existing) return false;
    } else {
      const allowed = typeof expectedStatus === 'string' ? [expectedStatus] : expectedStatus;
      if (!existing || !allowed.includes(existing.status)) return false;
    }
    slot.tasks.set(state.task, { ...state });
    return true;
  }

  async sweepCandidates(now: number, limit: number): Promise<RunRecord[]> {
    this.count('sweepCandidates');
    const out: RunRecord[] = [];
    for (const { run } of this.runs.values()) {
      if (out.length >= limit) break;
      if (expired(run.ttl, this.now())) continue;
      const due =
        run.status === 'QUEUED' ||
        (run.status === 'RUNNING' && (run.leaseUntil ?? 0) < now) ||
        (run.status === 'WAITING' && (run.wake !== run.seen || (run.wakeAt !== undefined && run.wakeAt <= now)));
      if (due) out.push(copyRun(run));
    }
    return out;
  }

  /** The run's slot unless absent or past its TTL (DynamoDB may delete it any time after). */
  private live(runId: string): RunSlot | undefined {
    const slot = this.runs.get(runId);
    return slot && !expired(slot.run.ttl, this.now()) ? slot : undefined;
  }

  private mustGet(runId: string): RunSlot {
    const slot = this.runs.get(runId);
    if (!slot) throw new Error(`internal: run '${runId}' does not exist in the store`);
    return slot;
  }
}

function copyRun(run: RunRecord): RunRecord {
  return structuredClone(run);
}

/** Copies of the entries the entry item at `key` carries. */
function carriedBy(slot: RunSlot, key: string): JournalEntry[] {
  return (slot.carried.get(key) ?? []).map((e) => ({ ...e }));
}

function expired(ttl: number | undefined, now: number): boolean {
  return ttl !== undefined && ttl * 1000 <= now;
}

/** Evaluates a RunCondition against a run item, with the same meaning as the DynamoDB condition expression. */
export function holds(run: RunRecord, condition: RunCondition): boolean {
  return clausesOf(condition).some((c) => clauseHolds(run, c));
}

function clauseHolds(run: RunRecord, c: RunClause): boolean {
  if (c.status && !c.status.includes(run.status)) return false;
  if (c.leaseOwner !== undefined && run.leaseOwner !== c.leaseOwner) return false;
  if (c.leaseExpiredBefore !== undefined && run.leaseUntil !== undefined && run.leaseUntil >= c.leaseExpiredBefore) return false;
  if (c.wake !== undefined && run.wake !== c.wake) return false;
  if (c.wakePending && run.wake === run.seen) return false;
  if (c.wakeDueBy !== undefined && (run.wakeAt === undefined || run.wakeAt > c.wakeDueBy)) return false;
  if (c.attempt !== undefined && run.attempt !== c.attempt) return false;
  if (c.notCancelRequested && run.cancelRequested === true) return false;
  return true;
}
