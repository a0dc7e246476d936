import type {
  JournalEntry,
  ListRunsQuery,
  RunList,
  WaiterPage,
  LoadedRun,
  RequestCounter,
  RunIntent,
  RunRecord,
  RunStatus,
  RunStore,
  StoredEvent,
  EventPage,
  EventQuery,
  TaskState,
  Waiter,
  WaiterRef,
} from '../../ports.ts';
import { withCursor } from '../../ports.ts';
import { holds, type RunCondition, type RunPatch } from '../shared/run-patch.ts';
import { RunItemWrites, isSweepCandidate, planIntent } from '../shared/run-intents.ts';
import { decodeListCursor, encodeListCursor, listSortKey } from '../../core/list-cursor.ts';
import { mergeJournal } from '../shared/merge-journal.ts';
import { PayloadTooLargeError } from '../../core/errors.ts';
import { MemoryFlowStore } from './memory-flow.ts';

/** DynamoDB's item limit (400 KB), which this store enforces too so both backends fail alike. */
const MAX_ITEM_BYTES = 400 * 1024;

/** Rejects a record DynamoDB would reject for its size (measured as its JSON, close to DynamoDB's count). */
function checkSize(where: string, record: object): void {
  const size = Buffer.byteLength(JSON.stringify(record));
  if (size > MAX_ITEM_BYTES) throw new PayloadTooLargeError(where, size, MAX_ITEM_BYTES);
}

interface RunSlot {
  run: RunRecord;
  /** key `${generation}|${attempt}:${position}` */
  entries: Map<string, JournalEntry>;
  /** The entries each entry item carries (see `RunStore.recordEntry`), by the same key. */
  carried: Map<string, JournalEntry[]>;
  /** key `${generation}|${attempt}:${position}:${index}` */
  waiters: Map<string, Waiter>;
  /** key `${generation}|${task}` */
  tasks: Map<string, TaskState>;
  /** Stream chunks, key `${generation}|${seq}` (items of their own, as on DynamoDB). */
  streams: Map<string, JournalEntry>;
}

/**
 * Item keys carry the run incarnation (`RunRecord.generation`), as the DynamoDB sort keys do: the items of an
 * earlier run with the same id are never read nor overwritten by a new one.
 */
const entryKey = (attempt: number, position: number, generation?: string) => `${generation ?? ''}|${attempt}:${position}`;
const waiterKey = (w: Omit<WaiterRef, 'runId'>) => `${w.generation ?? ''}|${w.attempt}:${w.position}:${w.index}`;
/** Joins a run id and a waiter key in the event-key index (a NUL never appears in a run id we write). */
const INDEX_SEPARATOR = '\u0000';
const indexRef = (runId: string, key: string) => `${runId}${INDEX_SEPARATOR}${key}`;
const taskKey = (t: Pick<TaskState, 'task' | 'generation'>) => `${t.generation ?? ''}|${t.task}`;

/**
 * In-process RunStore with the same semantics as the DynamoDB one: single-item conditional writes,
 * first-wins journal entries. Objects are copied in and out so callers can never mutate stored state.
 */
export class MemoryRunStore extends RunItemWrites implements RunStore {
  private readonly runs = new Map<string, RunSlot>();
  /** eventKey → `indexRef(runId, waiterKey)` of its event waiters */
  private readonly waiterIndex = new Map<string, Set<string>>();
  private readonly events = new Map<string, StoredEvent[]>();
  /** eventKey → the last number of its event sequence taken. */
  private readonly sequences = new Map<string, number>();
  /**
   * Entry items written under a run id whose run item does not exist (yet): on DynamoDB they are items like any
   * other, so a fork (sdk/core/fork) writes a journal before the run item that commits it. The run item adopts them.
   */
  private readonly unowned = new Map<string, Pick<RunSlot, 'entries' | 'carried' | 'streams'>>();

  /** Flow-control counters (slots, queues, rate limits), in the same process. */
  readonly flow: MemoryFlowStore;

  constructor(
    private readonly counter?: RequestCounter,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.flow = new MemoryFlowStore(counter);
  }

  private count(op: string) {
    this.counter?.count(`Memory.${op}`);
  }

  async createRun(run: RunRecord): Promise<boolean> {
    this.count('createRun');
    checkSize(`the run item of '${run.runId}'`, withoutOutput(run));
    const slot = this.runs.get(run.runId);
    if (slot && !expired(slot.run.ttl, this.now())) return false;
    // An expired run is replaced; its items stay (as on DynamoDB until TTL deletes them), under its generation.
    if (slot) slot.run = structuredClone(run);
    else {
      const items = this.unowned.get(run.runId) ?? { entries: new Map(), carried: new Map(), streams: new Map() };
      this.unowned.delete(run.runId);
      this.runs.set(run.runId, { run: structuredClone(run), ...items, waiters: new Map(), tasks: new Map() });
    }
    return true;
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    this.count('getRun');
    const slot = this.live(runId);
    return slot ? copyRun(slot.run) : undefined;
  }

  /** Newest first, in the order (and with the cursors) of the DynamoDB listing index. */
  async listRuns(query: ListRunsQuery): Promise<RunList> {
    this.count('listRuns');
    const before = query.cursor === undefined ? undefined : decodeListCursor(query.cursor);
    const out: { sk: string; run: RunRecord }[] = [];
    const now = this.now();
    for (const { run } of this.runs.values()) {
      if (expired(run.ttl, now)) continue;
      if (query.status && run.status !== query.status) continue;
      if (query.name && run.name !== query.name) continue;
      if (query.taskRuns === false && run.workflowRunId !== undefined) continue;
      const sk = listSortKey(run.createdAt, run.runId);
      if (before === undefined || sk < before) out.push({ sk, run });
    }
    out.sort((a, b) => (a.sk < b.sk ? 1 : a.sk > b.sk ? -1 : 0));
    if (query.limit === undefined || out.length <= query.limit) return out.map((o) => copyRun(o.run));
    const page = out.slice(0, query.limit);
    return withCursor(page.map((o) => copyRun(o.run)), encodeListCursor(page[page.length - 1]!.sk));
  }

  protected async applyIntent(runId: string, intent: RunIntent): Promise<RunRecord | undefined> {
    const { patch, condition } = planIntent(intent);
    return this.updateRun(runId, patch, condition);
  }

  /** The low-level write every intent is made of (not on the port: tests use it to forge states). */
  async updateRun(runId: string, patch: RunPatch, condition?: RunCondition): Promise<RunRecord | undefined> {
    this.count('updateRun');
    const slot = this.live(runId);
    if (!slot) return undefined;
    if (condition && !holds(slot.run, condition)) return undefined;
    if (patch.set) checkSize(`the run item of '${runId}'`, withoutOutput({ ...slot.run, ...patch.set }));
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
    const now = this.now();
    const generation = slot.run.generation;
    const prefix = `${generation ?? ''}|`;
    const items = [...slot.entries.entries()]
      .filter(([key, entry]) => key.startsWith(prefix) && !expired(entry.ttl, now))
      .map(([key, entry]) => ({ entry: { ...entry }, carried: carriedBy(slot, key) }));
    const chunks = [...slot.streams.values()].filter((c) => c.generation === generation && !expired(c.ttl, now)).map((entry) => ({ entry: { ...entry } }));
    const { entries, parked } = mergeJournal([...chunks, ...items], (slot.run.parkedEntries ?? []).map((e) => ({ ...e })));
    const live = (item: { generation?: string | undefined; ttl?: number | undefined }) => item.generation === generation && !expired(item.ttl, now);
    const waiters = [...slot.waiters.values()].filter(live).map((w) => ({ ...w }));
    waiters.sort((a, b) => a.attempt - b.attempt || a.position - b.position || a.index - b.index);
    const tasks = [...slot.tasks.values()].filter(live).map((t) => ({ ...t }));
    return { run: copyRun(slot.run), entries, parked, waiters, tasks };
  }

  async recordEntry(runId: string, entry: JournalEntry, carried: readonly JournalEntry[] = []): Promise<{ won: boolean; entry: JournalEntry; carried: JournalEntry[] }> {
    this.count('recordEntry');
    const slot = this.runs.get(runId) ?? this.unownedItems(runId);
    checkSize(`journal entry ${entry.attempt}/${entry.position} of run '${runId}'`, { entry, carried });
    const key = entryKey(entry.attempt, entry.position, entry.generation);
    const existing = slot.entries.get(key);
    if (existing) return { won: false, entry: { ...existing }, carried: carriedBy(slot, key) };
    slot.entries.set(key, { ...entry });
    if (carried.length) slot.carried.set(key, carried.map((e) => ({ ...e })));
    return { won: true, entry: { ...entry }, carried: carried.map((e) => ({ ...e })) };
  }

  async putStreamChunk(runId: string, entry: JournalEntry): Promise<{ won: boolean; entry: JournalEntry }> {
    this.count('putStreamChunk');
    // Like recordEntry: a chunk may be written before its run item (runs.fork copies them first), as on DynamoDB.
    const slot = this.runs.get(runId) ?? this.unownedItems(runId);
    checkSize(`stream chunk ${entry.seq} of run '${runId}'`, entry);
    const key = `${entry.generation ?? ''}|${entry.seq}`;
    const existing = slot.streams.get(key);
    if (existing) return { won: false, entry: { ...existing } };
    slot.streams.set(key, { ...entry });
    return { won: true, entry: { ...entry } };
  }

  async readStream(runId: string, generation: string | undefined, afterSeq: number, limit: number): Promise<JournalEntry[]> {
    this.count('readStream');
    const slot = this.runs.get(runId);
    if (!slot) return [];
    const now = this.now();
    return [...slot.streams.values()]
      .filter((c) => c.generation === generation && c.seq! > afterSeq && !expired(c.ttl, now))
      .sort((a, b) => a.seq! - b.seq!)
      .slice(0, limit)
      .map((c) => ({ ...c }));
  }

  async updateRetryingEntry(runId: string, entry: JournalEntry, expectedStepAttempt: number): Promise<boolean> {
    this.count('updateRetryingEntry');
    const slot = this.mustGet(runId);
    const key = entryKey(entry.attempt, entry.position, entry.generation);
    const existing = slot.entries.get(key);
    if (!existing || existing.status !== 'retrying' || existing.stepAttempt !== expectedStepAttempt) return false;
    slot.entries.set(key, { ...entry });
    return true;
  }

  async registerWaiters(waiters: readonly Waiter[]): Promise<void> {
    this.count('registerWaiters');
    for (const waiter of waiters) checkSize(`a waiter of run '${waiter.runId}'`, waiter);
    for (const waiter of waiters) {
      const slot = this.mustGet(waiter.runId);
      slot.waiters.set(waiterKey(waiter), { ...waiter });
      if (waiter.type === 'event' && waiter.eventKey !== undefined) {
        let set = this.waiterIndex.get(waiter.eventKey);
        if (!set) this.waiterIndex.set(waiter.eventKey, (set = new Set()));
        set.add(indexRef(waiter.runId, waiterKey(waiter)));
      }
    }
  }

  async deleteWaiters(waiters: readonly WaiterRef[]): Promise<void> {
    this.count('deleteWaiters');
    for (const ref of waiters) {
      const slot = this.runs.get(ref.runId);
      const key = waiterKey(ref);
      const waiter = slot?.waiters.get(key);
      if (!slot || !waiter) continue;
      slot.waiters.delete(key);
      if (waiter.eventKey === undefined) continue;
      const index = this.waiterIndex.get(waiter.eventKey);
      index?.delete(indexRef(ref.runId, key));
      // A key per run (`order:<id>`) must not leave an empty entry behind for each run for ever.
      if (index?.size === 0) this.waiterIndex.delete(waiter.eventKey);
    }
  }

  async findWaiters(eventKey: string): Promise<Waiter[]> {
    this.count('findWaiters');
    const out: Waiter[] = [];
    const now = this.now();
    for (const ref of this.waiterIndex.get(eventKey) ?? []) {
      const at = ref.indexOf(INDEX_SEPARATOR);
      const runId = ref.slice(0, at);
      const key = ref.slice(at + 1);
      const waiter = this.runs.get(runId)?.waiters.get(key);
      if (waiter && waiter.type === 'event' && waiter.eventKey === eventKey && !expired(waiter.ttl, now)) out.push({ ...waiter });
    }
    return out;
  }

  /** One shard holds every waiter of a key here; pages follow the index order of the DynamoDB store. */
  async findWaitersPage(eventKey: string, page: { shard: number; cursor?: string; limit: number }): Promise<WaiterPage> {
    this.count('findWaitersPage');
    if (page.shard !== 0) return { waiters: [], shards: 1 };
    const refs = [...(this.waiterIndex.get(eventKey) ?? [])].filter((ref) => page.cursor === undefined || ref > page.cursor).sort();
    const out: Waiter[] = [];
    const now = this.now();
    let last: string | undefined;
    for (const ref of refs.slice(0, page.limit)) {
      last = ref;
      const at = ref.indexOf(INDEX_SEPARATOR);
      const waiter = this.runs.get(ref.slice(0, at))?.waiters.get(ref.slice(at + 1));
      if (waiter && waiter.type === 'event' && waiter.eventKey === eventKey && !expired(waiter.ttl, now)) out.push({ ...waiter });
    }
    return { waiters: out, shards: 1, ...(refs.length > page.limit && last !== undefined ? { cursor: last } : {}) };
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

  async findEventsPage(key: string, query: EventQuery): Promise<EventPage> {
    this.count('findEventsPage');
    const now = this.now();
    const from = query.cursor === undefined ? Number.NEGATIVE_INFINITY : Number(query.cursor);
    const all = (this.events.get(key) ?? [])
      .filter((e) => e.seq >= from && (e.time >= query.since || (query.afterSeq !== undefined && e.seq > query.afterSeq)) && !expired(e.ttl, now))
      .sort((a, b) => a.seq - b.seq);
    const events = all.slice(0, query.limit).map((e) => ({ ...e }));
    return { events, ...(all.length > query.limit ? { cursor: String(all[query.limit]!.seq) } : {}) };
  }

  async putTaskState(state: TaskState, expectedStatus?: RunStatus | readonly RunStatus[]): Promise<boolean> {
    this.count('putTaskState');
    const slot = this.mustGet(state.workflowRunId);
    checkSize(`the state of task '${state.task}' of run '${state.workflowRunId}'`, state);
    const existing = slot.tasks.get(taskKey(state));
    if (expectedStatus === undefined) {
      if (existing) return false;
    } else {
      const allowed = typeof expectedStatus === 'string' ? [expectedStatus] : expectedStatus;
      if (!existing || !allowed.includes(existing.status)) return false;
    }
    slot.tasks.set(taskKey(state), { ...state });
    return true;
  }

  async sweepCandidates(now: number, limit: number): Promise<RunRecord[]> {
    this.count('sweepCandidates');
    const out: RunRecord[] = [];
    for (const { run } of this.runs.values()) {
      if (out.length >= limit) break;
      if (expired(run.ttl, this.now())) continue;
      if (isSweepCandidate(run, now)) out.push(copyRun(run));
    }
    return out;
  }

  /** The run's slot unless absent or past its TTL (DynamoDB may delete it any time after). */
  private live(runId: string): RunSlot | undefined {
    const slot = this.runs.get(runId);
    return slot && !expired(slot.run.ttl, this.now()) ? slot : undefined;
  }

  private unownedItems(runId: string): Pick<RunSlot, 'entries' | 'carried' | 'streams'> {
    let items = this.unowned.get(runId);
    if (!items) this.unowned.set(runId, (items = { entries: new Map(), carried: new Map(), streams: new Map() }));
    return items;
  }

  private mustGet(runId: string): RunSlot {
    const slot = this.runs.get(runId);
    if (!slot) throw new Error(`internal: run '${runId}' does not exist in the store`);
    return slot;
  }
}

/** A run item as DynamoDB stores it: a large output has an item of its own (dynamo-output.ts), so it is not counted. */
function withoutOutput(run: RunRecord): Omit<RunRecord, 'output'> {
  const { output: _spilled, ...rest } = run;
  return rest;
}

function copyRun(run: RunRecord): RunRecord {
  return structuredClone(run);
}

/** Copies of the entries the entry item at `key` carries. */
function carriedBy(slot: Pick<RunSlot, 'carried'>, key: string): JournalEntry[] {
  return (slot.carried.get(key) ?? []).map((e) => ({ ...e }));
}

function expired(ttl: number | undefined, now: number): boolean {
  return ttl !== undefined && ttl * 1000 <= now;
}

