/**
 * The embedded default's dispatcher: SQS (fauxqs), plus a hand-off to the worker of this process.
 *
 * Why the hand-off is safe: local mode is one process per state directory, and fauxqs keeps its messages in
 * memory, so a message never outlives the process that sent it. What makes a crash lose nothing is the table
 * (the start-up `recover()` takes up every unfinished run), not the queue. Inside a live process, a message
 * handed to the worker is as durable as one in fauxqs; the worker retries a failed one through SQS, as a
 * failed polled message is retried by its visibility timeout. What it saves, per dispatch: SendMessage,
 * ReceiveMessage and DeleteMessage (three requests), and the wait for the long poll to return.
 */
import type { DispatchMessage, Dispatcher, ReceivedMessage } from '../ports.ts';

export class LocalDispatcher implements Dispatcher {
  private take: ((message: DispatchMessage) => boolean) | undefined;

  /** Wakes a `receive` waiting between polls (a message was just put on the queue from this process). */
  private nudge: (() => void) | undefined;

  private started: Promise<Dispatcher> | undefined;

  /** @param startQueue starts the queue (fauxqs and the SQS dispatcher on it) on first use, once */
  constructor(private readonly startQueue: () => Promise<Dispatcher>) {}

  /** The queue, started on first use: after a restart, recovery hands its runs to the worker before it exists. */
  queue(): Promise<Dispatcher> {
    return (this.started ??= this.startQueue());
  }

  async dispatch(message: DispatchMessage, options?: { delayMs?: number }): Promise<void> {
    const delayMs = options?.delayMs && options.delayMs > 0 ? options.delayMs : 0;
    if (!delayMs && this.take?.(message)) return;
    await (await this.queue()).dispatch(message, options);
    // The poller looks again when the message becomes visible, not a poll interval later.
    if (delayMs) setTimeout(() => this.nudge?.(), delayMs).unref();
    else this.nudge?.();
  }

  /**
   * A short poll, then (when it found nothing) a wait of up to `waitMs` that a dispatch from this process cuts
   * short. Not a long poll: fauxqs holds a long poll on a timer that keeps the event loop alive, and the
   * embedded worker must not keep a finished script running. Messages other processes send (`durable dev`'s
   * clients) are seen within `waitMs`.
   */
  async receive(max: number, waitMs: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    const queue = await this.queue();
    if (signal?.aborted) return [];
    const messages = await queue.receive(max, 0, signal);
    if (messages.length > 0 || waitMs <= 0) return messages;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        if (this.nudge === done) this.nudge = undefined;
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      timer.unref();
      signal?.addEventListener('abort', done);
      this.nudge = done;
    });
    return [];
  }

  deliverInProcess(take: ((message: DispatchMessage) => boolean) | undefined): void {
    this.take = take;
  }
}
