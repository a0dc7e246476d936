/**
 * The SQS batch loop of a Lambda function with an SQS event source: the records of one invocation handled at most
 * `slots` at a time, each on its own, and the ones that failed reported back as partial batch failures
 * (`ReportBatchItemFailures`): SQS redelivers only those, and the rest of the batch is deleted.
 */

/** A minimal SQS Lambda event (aws-lambda's SQSEvent shape). */
export interface SqsEvent {
  Records: SqsRecord[];
}

/** The part of an SQS record the handlers read (aws-lambda's SQSRecord). */
export interface SqsRecord {
  messageId: string;
  body: string;
}

/** The partial batch response (aws-lambda's SQSBatchResponse): the records SQS is to redeliver. */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/**
 * Handles the records of `event`, at most `slots` at once, in order. A record whose `handle` rejects is reported
 * failed (the handler logs why; the rest of the batch always proceeds). Once `signal` aborts (the invocation's
 * deadline is near) no record starts: those not started are reported failed too, so SQS redelivers them to an
 * invocation with time to spare; those in flight are awaited (`handle` is given the signal to abandon them).
 * A malformed event (no `Records` array) is an empty batch.
 */
export async function processBatch(
  event: SqsEvent,
  slots: number,
  signal: AbortSignal,
  handle: (record: SqsRecord) => Promise<void>,
): Promise<SqsBatchResponse> {
  const failures: { itemIdentifier: string }[] = [];
  const records = Array.isArray(event?.Records) ? event.Records : [];
  const running = new Set<Promise<void>>();
  const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  const failed = (record: SqsRecord) => failures.push({ itemIdentifier: record?.messageId });
  for (const record of records) {
    while (running.size >= slots && !signal.aborted) await Promise.race([...running, stopped]);
    if (signal.aborted) {
      // Not started: SQS redelivers it to an invocation with time to spare.
      failed(record);
      continue;
    }
    const job: Promise<void> = handle(record)
      .catch(() => void failed(record))
      .finally(() => running.delete(job));
    running.add(job);
  }
  await Promise.all(running);
  return { batchItemFailures: failures };
}
