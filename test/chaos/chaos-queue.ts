/**
 * The dispatch queue of a chaos schedule: duplicates, holds back (reorders) and drops messages as they arrive;
 * the driver delivers from it, and re-delivers failed messages as SQS would.
 */
import type { Clock, DispatchMessage, Dispatcher, ReceivedMessage } from '../../sdk/ports.ts';
import type { Chaos } from './faults.ts';

/** A message on its way to a worker. */
export interface Delivery {
  runId: string;
  /** Virtual time before which it is not delivered (held back: reordering). */
  notBefore: number;
  source: string;
}

/**
 * The dispatch queue the driver delivers from. In memory mode it is the transport itself; in AWS mode
 * messages travel through SQS (fauxqs) first and `pump()` receives them. Either way the queue may
 * duplicate, hold back or drop a message as it arrives.
 */
export class ChaosQueue implements Dispatcher {
  private readonly pendingDeliveries: Delivery[] = [];
  sent = 0;

  constructor(
    private readonly chaos: Chaos,
    private readonly clock: Clock,
    private readonly transport?: Dispatcher,
  ) {}

  async dispatch(message: DispatchMessage): Promise<void> {
    this.sent++;
    if (this.transport) await this.transport.dispatch(message);
    else this.arrive(message.runId, 'dispatch');
  }

  /** The sink timers fire into: the timer service's own delivery never reports errors to anyone. */
  timerTarget(): Dispatcher {
    return {
      dispatch: (message) => this.dispatch(message).catch(() => this.chaos.record('drop', 'timer.fire', message.runId, undefined)),
      receive: async () => [],
    };
  }

  /** AWS mode: moves every message waiting in SQS into the delivery list (acknowledging it). */
  async pump(): Promise<number> {
    if (!this.transport) return 0;
    let moved = 0;
    for (;;) {
      const batch = await this.transport.receive(10, 0);
      if (batch.length === 0) return moved;
      for (const received of batch) {
        await received.ack();
        if (received.message) this.arrive(received.message.runId, 'sqs');
        moved++;
      }
    }
  }

  private arrive(runId: string, source: string) {
    const now = this.clock.now();
    switch (this.chaos.queueFault()) {
      case 'drop':
        this.chaos.record('drop', 'queue.deliver', runId, undefined);
        return;
      case 'duplicate':
        this.chaos.record('duplicate', 'queue.deliver', runId, undefined);
        this.pendingDeliveries.push({ runId, notBefore: now, source }, { runId, notBefore: now, source: `${source}+dup` });
        return;
      case 'hold':
        this.chaos.record('hold', 'queue.deliver', runId, undefined);
        this.pendingDeliveries.push({ runId, notBefore: now + this.chaos.holdMs(), source: `${source}+held` });
        return;
      default:
        this.pendingDeliveries.push({ runId, notBefore: now, source });
    }
  }

  /** Puts a message back (SQS redelivery after a failed processing). */
  redeliver(runId: string, at: number) {
    this.pendingDeliveries.push({ runId, notBefore: at, source: 'redelivery' });
  }

  /** Takes every message deliverable now. */
  takeReady(): Delivery[] {
    const now = this.clock.now();
    const ready = this.pendingDeliveries.filter((d) => d.notBefore <= now);
    const rest = this.pendingDeliveries.filter((d) => d.notBefore > now);
    this.pendingDeliveries.length = 0;
    this.pendingDeliveries.push(...rest);
    return ready;
  }

  /** Every message still on its way, deliverable or not (the aftershock delivers them all). */
  takeReadyAll(): Delivery[] {
    return this.pendingDeliveries.splice(0);
  }

  pendingRunIds(): string[] {
    return this.pendingDeliveries.map((d) => d.runId);
  }

  /** When the next held message becomes deliverable. */
  nextAt(): number | undefined {
    return this.pendingDeliveries.length ? Math.min(...this.pendingDeliveries.map((d) => d.notBefore)) : undefined;
  }

  get size(): number {
    return this.pendingDeliveries.length;
  }

  async receive(): Promise<ReceivedMessage[]> {
    return [];
  }
}

