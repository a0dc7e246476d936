/**
 * The embedded default's in-process hand-off (sdk/local/local-dispatcher.ts + the embedded Worker): a dispatch
 * goes to the worker of this process when it has a free slot, and to the queue otherwise; nothing handed off is
 * dropped (a failure goes back through the queue). The crash side (a handed-off run when the process dies) is
 * test/local/restart.integration.test.ts.
 */
import { describe, expect, test } from 'vitest';
import type { DispatchMessage, Dispatcher, ReceivedMessage } from '../../sdk/ports.ts';
import { Worker } from '../../sdk/core/worker.ts';
import type { Engine } from '../../sdk/core/engine.ts';
import { LocalDispatcher } from '../../sdk/local/local-dispatcher.ts';
import { KeepAlive } from '../../sdk/core/keep-alive.ts';

class FakeQueue implements Dispatcher {
  readonly sent: { message: DispatchMessage; delayMs: number | undefined }[] = [];
  async dispatch(message: DispatchMessage, options?: { delayMs?: number }) {
    this.sent.push({ message, delayMs: options?.delayMs });
  }
  receive(_max: number, waitMs: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve([]), Math.min(waitMs, 20));
      signal?.addEventListener('abort', () => (clearTimeout(timer), resolve([])));
    });
  }
}

function setup(process: (runId: string) => Promise<unknown>, slots = 2) {
  const queue = new FakeQueue();
  const dispatcher = new LocalDispatcher(async () => queue);
  const processed: string[] = [];
  const engine = {
    sweep: async () => 0,
    backend: async () => ({ dispatcher }),
    process: (runId: string) => (processed.push(runId), process(runId)),
    keepAlive: new KeepAlive(),
  } as unknown as Engine;
  const worker = new Worker('embedded', engine, { workflows: [], allDefinitions: true, inProcessDelivery: true, slots });
  return { queue, dispatcher, worker, processed };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('in-process hand-off (embedded default)', () => {
  test('a dispatch goes straight to the started worker; the queue sees nothing', async () => {
    const { queue, dispatcher, worker, processed } = setup(async () => 'completed');
    await worker.start();
    await dispatcher.dispatch({ runId: 'a' });
    expect(processed).toEqual(['a']);
    expect(queue.sent).toEqual([]);
    await worker.stop();
  });

  test('before start, after stop, with a delay or with every slot busy, the message goes to the queue', async () => {
    let release!: () => void;
    const busy = new Promise<void>((r) => (release = r));
    const { queue, dispatcher, worker, processed } = setup(() => busy, 2);
    await dispatcher.dispatch({ runId: 'before-start' });
    await worker.start();
    await dispatcher.dispatch({ runId: 'delayed' }, { delayMs: 5_000 });
    await dispatcher.dispatch({ runId: 'one' });
    await dispatcher.dispatch({ runId: 'two' });
    await dispatcher.dispatch({ runId: 'three' }); // both slots are busy
    expect(processed).toEqual(['one', 'two']);
    release();
    await worker.stop();
    await dispatcher.dispatch({ runId: 'after-stop' });
    expect(queue.sent).toEqual([
      { message: { runId: 'before-start' }, delayMs: undefined },
      { message: { runId: 'delayed' }, delayMs: 5_000 },
      { message: { runId: 'three' }, delayMs: undefined },
      { message: { runId: 'after-stop' }, delayMs: undefined },
    ]);
  });

  test('a handed-off run whose processing throws is retried through the queue a second later, not dropped', async () => {
    const { queue, dispatcher, worker } = setup(async () => {
      throw new Error('throttled');
    });
    await worker.start();
    await dispatcher.dispatch({ runId: 'flaky' });
    await turn();
    await worker.stop();
    expect(queue.sent).toEqual([{ message: { runId: 'flaky' }, delayMs: 1000 }]);
  });

  test('stop() waits for handed-off runs to finish', async () => {
    let finished = false;
    const { dispatcher, worker } = setup(async () => {
      await new Promise((r) => setTimeout(r, 30));
      finished = true;
    });
    await worker.start();
    await dispatcher.dispatch({ runId: 'slow' });
    await worker.stop();
    expect(finished).toBe(true);
  });
});

describe('polling the local queue without holding the process', () => {
  test('receive short-polls (wait 0), then waits on its own; a dispatch from this process ends the wait at once', async () => {
    const waits: number[] = [];
    const queue = new FakeQueue();
    queue.receive = async (_max: number, waitMs: number) => (waits.push(waitMs), []);
    const dispatcher = new LocalDispatcher(async () => queue);
    const started = Date.now();
    const polling = dispatcher.receive(10, 10_000);
    await turn();
    await dispatcher.dispatch({ runId: 'x' });
    expect(await polling).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(waits).toEqual([0]);
    expect(queue.sent.map((s) => s.message.runId)).toEqual(['x']);
  });

  test('an abort ends the wait', async () => {
    const queue = new FakeQueue();
    queue.receive = async () => [];
    const dispatcher = new LocalDispatcher(async () => queue);
    const controller = new AbortController();
    const polling = dispatcher.receive(10, 10_000, controller.signal);
    await turn();
    controller.abort();
    expect(await polling).toEqual([]);
  });
});
