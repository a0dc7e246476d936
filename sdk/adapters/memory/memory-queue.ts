import type { DispatchMessage, Dispatcher, ReceivedMessage, RequestCounter } from '../../ports.ts';
import type { TimerClock } from './virtual-clock.ts';
import { dispatchBody, parseDispatchBody } from '../../core/dispatch-message.ts';

/**
 * An in-process dispatch queue. Delayed messages wait on the engine's clock (virtual in tests). A
 * consumer either subscribes (`listen`, the embedded worker) or long-polls (`receive`, `worker.start()`).
 */
export class MemoryQueue implements Dispatcher {
  private readonly ready: string[] = [];
  private readonly waiting: (() => void)[] = [];
  private listener: ((message: DispatchMessage) => void) | undefined;
  /** Messages sent, for tests and benchmarks. */
  sent = 0;

  constructor(
    private readonly clock: TimerClock,
    private readonly counter?: RequestCounter,
  ) {}

  async dispatch(message: DispatchMessage, options?: { delayMs?: number }): Promise<void> {
    this.counter?.count('Memory.dispatch');
    this.sent++;
    const body = dispatchBody(message);
    const delay = options?.delayMs ?? 0;
    if (delay > 0) this.clock.setTimer(this.clock.now() + delay, () => this.deliver(body));
    else this.deliver(body);
  }

  /** Delivers every message to `listener` instead of the pull queue. */
  listen(listener: ((message: DispatchMessage) => void) | undefined) {
    this.listener = listener;
    if (listener) for (const body of this.ready.splice(0)) this.deliver(body);
  }

  /** Puts a raw body on the queue, as a producer outside the SDK would (malformed-message tests). */
  deliver(body: string) {
    if (this.listener) {
      const parsed = parseDispatchBody(body);
      if (parsed) this.listener(parsed);
      return;
    }
    this.ready.push(body);
    this.waiting[0]?.();
  }

  async receive(max: number, waitMs: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    if (this.ready.length === 0 && waitMs > 0) {
      // Whichever ends the wait (a message, the timeout, the abort) removes all three hooks: a long-lived poller
      // must not leave a closure per poll behind, nor a listener on its signal.
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          const at = this.waiting.indexOf(wake);
          if (at >= 0) this.waiting.splice(at, 1);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        const timer = setTimeout(wake, waitMs);
        this.waiting.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
    return this.ready.splice(0, max).map((body) => {
      const message = parseDispatchBody(body);
      return {
        message,
        body,
        ack: async () => undefined,
        retry: async (delayMs: number) => {
          this.clock.setTimer(this.clock.now() + delayMs, () => this.deliver(body));
        },
      };
    });
  }
}
