/** A run waiting for a concurrency slot: queue items sort by priority (high first), then age. */
export interface SlotQueueEntry {
  runId: string;
  priority: number;
  createdAt: number;
}

/** A run waiting for a rate limit's refill: its queue sorts like a slot's (priority, then age). */
export interface RateQueueEntry extends SlotQueueEntry {
  units: number;
}

/** A slot item: the runs holding a slot of one concurrency key. */
export interface SlotState {
  holders: string[];
  /** When holders were last checked for runs that ended without releasing (crash recovery). */
  checkedAt?: number;
}

/** What taking rate-limit units found. */
export type ConsumeResult =
  | { type: 'taken' }
  /** `reserved`: units remained, but no more than runs queued ahead of this one need. */
  | { type: 'spent'; refillAt: number; limit: number; reserved?: boolean }
  | { type: 'too-many'; limit: number }
  | { type: 'missing' };

/**
 * Flow-control counters (sdk/core/flow/). Each method is one single-item conditional write or read (a failed
 * conditional write may be followed by one read), so every count is exact under races without transactions.
 */
export interface FlowStore {
  /** Takes a slot for `runId` iff fewer than `maxRuns` are held. `held`: it already had one (idempotent). */
  acquireSlot(slot: string, runId: string, maxRuns: number): Promise<{ result: 'acquired' | 'held' | 'full'; state: SlotState }>;
  /** The holders of a slot (one consistent read). */
  readSlot(slot: string): Promise<SlotState>;
  /** Frees `runId`'s slot; false when it held none. */
  releaseSlot(slot: string, runId: string): Promise<boolean>;
  /** Hands `from`'s slot to `to` in one conditional write (the count never changes). */
  transferSlot(slot: string, from: string, to: string): Promise<'moved' | 'from-absent' | 'to-present'>;
  /** Records a holder check at `now` iff the last one is still `previous` (one checker at a time). */
  markSlotChecked(slot: string, now: number, previous: number | undefined): Promise<boolean>;
  /** Idempotent. */
  enqueue(slot: string, entry: SlotQueueEntry): Promise<void>;
  /** Removes the queue item; true when this call removed it (a claim: of several releasers, one gets the run). */
  dequeue(slot: string, entry: SlotQueueEntry): Promise<boolean>;
  /** The first `limit` waiting runs: highest priority first, then oldest. */
  queueHead(slot: string, limit: number): Promise<SlotQueueEntry[]>;
  /**
   * Takes `units` from the limit's current window, leaving `reserve` units (those of runs queued ahead) untaken.
   * `dynamic`: the limit and window of a dynamic key (created on first use); a static key must have been upserted
   * (`missing` otherwise).
   */
  consumeUnits(key: string, units: number, now: number, dynamic?: { limit: number; durationMs: number }, reserve?: number): Promise<ConsumeResult>;
  /** Queues a run for the limit's refill (idempotent). */
  enqueueRateWaiter(key: string, entry: RateQueueEntry): Promise<void>;
  dequeueRateWaiter(key: string, entry: SlotQueueEntry): Promise<void>;
  /** The runs queued for `key` ahead of `entry` (higher priority, or as high and older), at most `limit`. */
  rateWaitersAhead(key: string, entry: SlotQueueEntry, limit: number): Promise<RateQueueEntry[]>;
  /** Records the one check of `key`'s waiters for the window ending `windowEnd`; false when already done. */
  markRateChecked(key: string, windowEnd: number): Promise<boolean>;
  /** Creates or changes a static rate limit (a changed limit applies from its next window). */
  upsertRateLimit(key: string, limit: number, durationMs: number): Promise<void>;
}
