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

  private started: Promise<Dispatcher> | undefined;

  /** @param startQueue starts the queue (fauxqs and the SQS dispatcher on it) on first use, once */
  constructor(private readonly startQueue: () => Promise<Dispatcher>) {}

  /** The queue, started on first use: after a restart, recovery hands its runs to the worker before it exists. */
  queue(): Promise<Dispatcher> {
    return (this.started ??= this.startQueue());
  }

  async dispatch(message: DispatchMessage, options?: { delayMs?: number }): Promise<void> {
    if (!(options?.delayMs && options.delayMs > 0) && this.take?.(message)) return;
    await (await this.queue()).dispatch(message, options);
  }

  async receive(max: number, waitMs: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    const queue = await this.queue();
    return signal?.aborted ? [] : queue.receive(max, waitMs, signal);
  }

  deliverInProcess(take: ((message: DispatchMessage) => boolean) | undefined): void {
    this.take = take;
  }
}
