import type { DurableEvent, EventBus } from '../../ports.ts';

/** Delivers pushed events straight to the router in this process (test and local modes). */
export class InProcessBus implements EventBus {
  private handler: ((event: DurableEvent) => Promise<unknown>) | undefined;

  /** The engine connects its router here. */
  connect(handler: (event: DurableEvent) => Promise<unknown>) {
    this.handler = handler;
  }

  async publish(event: DurableEvent): Promise<void> {
    if (!this.handler) throw new Error('internal: the in-process event bus has no router connected');
    await this.handler(event);
  }
}
