/**
 * In-process FlowStore with the DynamoDB one's semantics (sdk/adapters/aws/dynamo-flow.ts): each method is
 * one atomic step, as each DynamoDB request is one conditional single-item write.
 */
import type { ConsumeResult, FlowStore, RequestCounter, SlotQueueEntry, SlotState } from '../../ports.ts';

interface Slot {
  holders: Set<string>;
  checkedAt?: number;
  queue: Map<string, SlotQueueEntry>;
}

interface Limit {
  limit: number;
  durationMs: number;
  windowEnd?: number;
  remaining?: number;
}

/** Queue order: priority high first, then oldest, then run id (the DynamoDB sort key's order). */
export function queueOrder(a: SlotQueueEntry, b: SlotQueueEntry): number {
  return b.priority - a.priority || a.createdAt - b.createdAt || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);
}

export class MemoryFlowStore implements FlowStore {
  private readonly slots = new Map<string, Slot>();
  private readonly limits = new Map<string, Limit>();

  constructor(private readonly counter?: RequestCounter) {}

  private count(op: string) {
    this.counter?.count(`Memory.${op}`);
  }

  private slot(key: string): Slot {
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { holders: new Set(), queue: new Map() }));
    return slot;
  }

  private state(slot: Slot): SlotState {
    return { holders: [...slot.holders], ...(slot.checkedAt !== undefined ? { checkedAt: slot.checkedAt } : {}) };
  }

  async acquireSlot(key: string, runId: string, maxRuns: number): Promise<{ result: 'acquired' | 'held' | 'full'; state: SlotState }> {
    this.count('acquireSlot');
    const slot = this.slot(key);
    if (slot.holders.has(runId)) return { result: 'held', state: this.state(slot) };
    if (slot.holders.size >= maxRuns) return { result: 'full', state: this.state(slot) };
    slot.holders.add(runId);
    return { result: 'acquired', state: this.state(slot) };
  }

  async releaseSlot(key: string, runId: string): Promise<boolean> {
    this.count('releaseSlot');
    return this.slot(key).holders.delete(runId);
  }

  async transferSlot(key: string, from: string, to: string): Promise<'moved' | 'from-absent' | 'to-present'> {
    this.count('transferSlot');
    const slot = this.slot(key);
    if (!slot.holders.has(from)) return 'from-absent';
    if (slot.holders.has(to)) return 'to-present';
    slot.holders.delete(from);
    slot.holders.add(to);
    return 'moved';
  }

  async markSlotChecked(key: string, now: number, previous: number | undefined): Promise<boolean> {
    this.count('markSlotChecked');
    const slot = this.slot(key);
    if (slot.checkedAt !== previous) return false;
    slot.checkedAt = now;
    return true;
  }

  async enqueue(key: string, entry: SlotQueueEntry): Promise<void> {
    this.count('enqueue');
    this.slot(key).queue.set(entry.runId, { ...entry });
  }

  async dequeue(key: string, entry: SlotQueueEntry): Promise<void> {
    this.count('dequeue');
    this.slot(key).queue.delete(entry.runId);
  }

  async queueHead(key: string, limit: number): Promise<SlotQueueEntry[]> {
    this.count('queueHead');
    return [...this.slot(key).queue.values()].sort(queueOrder).slice(0, limit).map((e) => ({ ...e }));
  }

  async consumeUnits(key: string, units: number, now: number, dynamic?: { limit: number; durationMs: number }): Promise<ConsumeResult> {
    this.count('consumeUnits');
    let item = this.limits.get(key);
    if (!item) {
      if (!dynamic) return { type: 'missing' };
      this.limits.set(key, (item = { ...dynamic }));
    }
    if (item.windowEnd !== undefined && item.windowEnd > now && item.remaining !== undefined) {
      if (item.remaining >= units) {
        item.remaining -= units;
        return { type: 'taken' };
      }
      if (units > item.limit) return { type: 'too-many', limit: item.limit };
      return { type: 'spent', refillAt: item.windowEnd, limit: item.limit };
    }
    // A new window: the definition of a dynamic key is the authority on its limit.
    if (dynamic) Object.assign(item, dynamic);
    if (units > item.limit) return { type: 'too-many', limit: item.limit };
    item.windowEnd = now + item.durationMs;
    item.remaining = item.limit - units;
    return { type: 'taken' };
  }

  async upsertRateLimit(key: string, limit: number, durationMs: number): Promise<void> {
    this.count('upsertRateLimit');
    const item = this.limits.get(key);
    if (item) Object.assign(item, { limit, durationMs });
    else this.limits.set(key, { limit, durationMs });
  }
}
