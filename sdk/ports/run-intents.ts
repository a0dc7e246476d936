/**
 * The writes of a run item, named for what the engine means by them. The run store has one method per intent
 * (`RunStore.lease`, `suspend`, `wake`, ...), so an adapter knows from the method alone which fields change and
 * which index entries move (DynamoDB's sweep index: sdk/adapters/aws/dynamo-sweep.ts), never guessing it from a
 * generic patch. Each is one conditional single-item write: the method returns the run as written, or `undefined`
 * when its condition did not hold (another worker, a cancel, a resolution that arrived meanwhile).
 */
import type { JournalEntry, RunFlowState, SerializedError } from './records.ts';

/** Who holds the lease: a worker's per-processing token. */
interface Held {
  owner: string;
}

/**
 * Take the run for a replay at `now`: QUEUED; WAITING with a resolution pending or its timer due; RUNNING with
 * its lease expired. It becomes RUNNING, leased to `owner` until `until`, and every resolution so far is seen.
 */
export interface LeaseIntent extends Held {
  until: number;
  now: number;
}

/** Keep the lease of a RUNNING run (the replay goes on). */
export interface HeartbeatIntent extends Held {
  until: number;
}

/** Give an abandoned replay's lease up at once: still RUNNING, lease expired at `now` (a worker or the sweeper takes it). */
export interface ReleaseLeaseIntent extends Held {
  now: number;
}

/**
 * Replay again under the same lease (a resolution arrived or a timer fell due while replaying, or a flow-control
 * write met a wake): the lease runs until `until`, every resolution so far is seen.
 */
export interface ReplayAgainIntent extends Held {
  until: number;
  /** Running time of the replay that just ended. */
  ranMs?: number;
  /** The run item's parked journal entries from now on (sdk/core/journal.ts); absent: left as they are. */
  parked?: readonly JournalEntry[];
  /** The run's flow-control state from now on. */
  flow?: RunFlowState;
}

/**
 * Park a leased run: WAITING until a resolution arrives (`wake`) or, with `wakeAt`, its timer is due. Conditional
 * on the wake counter still being `wake` (no resolution arrived since the lease) and on no cancel request.
 */
export interface SuspendIntent extends Held {
  wake: number;
  wakeAt?: number;
  now: number;
  ranMs: number;
  parked: readonly JournalEntry[];
}

/**
 * Start the next attempt after a retryable failure: `attempt`, its running time reset, QUEUED (no backoff) or
 * WAITING until `wakeAt` (the backoff). The failed attempt's resolutions are spent (seen): none can wake the new
 * attempt before its backoff. Conditional on the lease and on no cancel request.
 */
export interface RetryIntent extends Held {
  attempt: number;
  error: SerializedError;
  now: number;
  wakeAt?: number;
}

/** End a leased run: SUCCEEDED with its output, or FAILED with its error. Conditional on the lease and no cancel request. */
export interface FinishIntent extends Held {
  outcome: { status: 'SUCCEEDED'; output?: string } | { status: 'FAILED'; error: SerializedError };
  now: number;
  /** Epoch seconds after which the run's items may be deleted (retention). */
  ttl?: number;
  ranMs: number;
  parked: readonly JournalEntry[];
}

/** End a run that is not terminal as CANCELLED, whoever holds it. */
export interface CancelledIntent {
  error: SerializedError;
  now: number;
  ttl?: number;
}

/** Record a leased run's flow-control state (its slot, units taken...). Conditional on the lease and no cancel request. */
export interface FlowIntent extends Held {
  flow: RunFlowState;
}

/**
 * Put a leased run back to QUEUED to wait for its concurrency slot or rate limit (until `wakeAt` when a refill is
 * due). Conditional on the lease, no cancel request and the wake counter still being `wake`.
 */
export interface QueueIntent extends Held {
  wake: number;
  flow: RunFlowState;
  now: number;
  wakeAt?: number;
}

/** Every intent as data: what the adapters' shared translation (sdk/adapters/shared/run-intents.ts) takes. */
export type RunIntent =
  | ({ type: 'lease' } & LeaseIntent)
  | ({ type: 'heartbeat' } & HeartbeatIntent)
  | ({ type: 'releaseLease' } & ReleaseLeaseIntent)
  | { type: 'expireLease' }
  | ({ type: 'replayAgain' } & ReplayAgainIntent)
  | ({ type: 'suspend' } & SuspendIntent)
  | ({ type: 'retry' } & RetryIntent)
  | ({ type: 'finish' } & FinishIntent)
  | ({ type: 'cancelled' } & CancelledIntent)
  | { type: 'wake' }
  | { type: 'requestCancel' }
  | ({ type: 'setFlow' } & FlowIntent)
  | ({ type: 'queue' } & QueueIntent);
