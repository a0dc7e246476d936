/**
 * The AWS module's Lambda glue on its own (sdk/adapters/aws/lambda/): the SQS batch loop's partial batch failures,
 * its slot bound and its stop at the deadline; the deadline signal and the router's budget from a Lambda context.
 * The handlers built on them are tested through `worker.lambdaHandler()` etc. (handlers.integration, deadline,
 * bad-input in this folder).
 */
import { describe, expect, test } from 'vitest';
import { processBatch, type SqsRecord } from '../../sdk/adapters/aws/lambda/batch.ts';
import { DEFAULT_DEADLINE_MARGIN_MS, lambdaDeadline, routerBudget } from '../../sdk/adapters/aws/lambda/deadline.ts';
import { DurableError } from '../../sdk/core/errors.ts';

const records = (...ids: string[]): SqsRecord[] => ids.map((id) => ({ messageId: id, body: id }));

/** A context whose invocation has `ms` left at every read (a frozen clock). */
const contextWith = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

describe('processBatch (the SQS batch loop)', () => {
  test('reports exactly the records whose handler rejected; every other record is handled', async () => {
    const handled: string[] = [];
    const response = await processBatch({ Records: records('a', 'b', 'c', 'd') }, 10, new AbortController().signal, async (record) => {
      handled.push(record.messageId);
      if (record.body === 'b' || record.body === 'd') throw new Error(`bad ${record.body}`);
    });
    expect(handled).toEqual(['a', 'b', 'c', 'd']);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'b' }, { itemIdentifier: 'd' }] });
  });

  test('handles at most `slots` records at once, in order', async () => {
    let inFlight = 0;
    let most = 0;
    const started: string[] = [];
    const response = await processBatch({ Records: records('1', '2', '3', '4', '5', '6', '7') }, 3, new AbortController().signal, async (record) => {
      started.push(record.messageId);
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
    });
    expect(most).toBe(3);
    expect(started).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(response.batchItemFailures).toEqual([]);
  });

  test('once the signal aborts no record starts: those not started are reported, the ones in flight finish', async () => {
    const deadline = new AbortController();
    const started: string[] = [];
    const response = await processBatch({ Records: records('a', 'b', 'c', 'd') }, 2, deadline.signal, async (record) => {
      started.push(record.messageId);
      if (record.messageId === 'b') deadline.abort(); // the deadline arrives while a and b run
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    expect(started).toEqual(['a', 'b']);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'c' }, { itemIdentifier: 'd' }]);
  });

  test('a slot-bound batch stops waiting for a free slot when the signal aborts', async () => {
    const deadline = new AbortController();
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const batch = processBatch({ Records: records('slow', 'next') }, 1, deadline.signal, async (record) => {
      if (record.messageId === 'slow') await slow;
    });
    deadline.abort();
    release();
    expect((await batch).batchItemFailures).toEqual([{ itemIdentifier: 'next' }]);
  });

  test('an event without a Records array is an empty batch', async () => {
    const handle = async () => {
      throw new Error('never called');
    };
    expect(await processBatch({} as never, 1, new AbortController().signal, handle)).toEqual({ batchItemFailures: [] });
    expect(await processBatch(undefined as never, 1, new AbortController().signal, handle)).toEqual({ batchItemFailures: [] });
  });
});

describe('lambdaDeadline and routerBudget (the Lambda context)', () => {
  test('without a Lambda context there is no deadline and no router budget', () => {
    for (const context of [undefined, {}, { getRemainingTimeInMillis: 'soon' }, { getRemainingTimeInMillis: () => Number.NaN }]) {
      const deadline = lambdaDeadline(context, 1_000);
      expect(deadline.signal.aborted).toBe(false);
      deadline.dispose();
      expect(routerBudget(context, 1_000)).toBeUndefined();
    }
  });

  test('aborts at once, with a DurableError naming deadlineMarginMs, when the invocation has no more than the margin', () => {
    const deadline = lambdaDeadline(contextWith(900), 1_000);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBeInstanceOf(DurableError);
    expect((deadline.signal.reason as Error).message).toContain('within 1000 ms of its deadline (deadlineMarginMs)');
  });

  test('aborts the margin before the end: by default 5 s, at most a quarter of the time left', async () => {
    const short = lambdaDeadline(contextWith(80)); // margin: a quarter, 20 ms; aborts after 60 ms
    expect(short.signal.aborted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(short.signal.aborted).toBe(true);
    expect((short.signal.reason as Error).message).toContain('within 20 ms');
    const long = lambdaDeadline(contextWith(60_000));
    const aborted = new Promise<Error>((resolve) => long.signal.addEventListener('abort', () => resolve(long.signal.reason as Error)));
    expect(long.signal.aborted).toBe(false);
    long.dispose(); // the handler returned: no abort later
    const late = await Promise.race([aborted, new Promise((resolve) => setTimeout(() => resolve('none'), 50))]);
    expect(late).toBe('none');
    expect(DEFAULT_DEADLINE_MARGIN_MS).toBe(5_000);
  });

  test('the router is out of time below twice the margin, read at each call', () => {
    let left = 10_000;
    const outOfTime = routerBudget({ getRemainingTimeInMillis: () => left }, 1_000)!;
    expect(outOfTime()).toBe(false);
    left = 2_000;
    expect(outOfTime()).toBe(false);
    left = 1_999;
    expect(outOfTime()).toBe(true);
    // Default margin: a quarter of the time at the start (here 1 s of 4 s), doubled.
    let remaining = 4_000;
    const byDefault = routerBudget({ getRemainingTimeInMillis: () => remaining })!;
    remaining = 2_001;
    expect(byDefault()).toBe(false);
    remaining = 1_999;
    expect(byDefault()).toBe(true);
  });
});
