/**
 * `ctx.step(name, fn, options)`: runs `fn` once and records its result (or error) at the call's position.
 *
 * - Recorded: the entry answers (a `retrying` entry parks until its `retryAt`, then runs the body again).
 * - New ground: run the body; a failure with retries left records a `retrying` entry (moved forward, never back,
 *   by a conditional update on its `stepAttempt`) and parks until the backoff is due, or retries at once
 *   without a write when the backoff is zero. Recording goes through the journal writer's `commitStep`: a
 *   concurrent replay that won the position answers instead, so every replay that goes on agrees with the journal.
 */
import type { StepOptions, Jsonified } from '../context-types.ts';
import { assertName, backoffDelayMs, normaliseBackoff } from '../definitions.ts';
import { runInDurableContext } from '../durable-scope.ts';
import { DurableError, InvalidDefinitionError, NonRetryableError, serializeError } from '../errors.ts';
import { decodePayload, encodePayload } from '../json.ts';
import type { JournalScope } from './fan-out.ts';
import { Fatal, answer, expect, newEntry, timerId, type OperationHost, type Park } from './host.ts';

/** `ctx.step(name, fn, options)`. @throws {InvalidDefinitionError} a bad name, fn or retries */
export function step<T>(host: OperationHost, name: string, fn: (attempt: number) => T | Promise<T>, options: StepOptions | undefined, scope: JournalScope): Promise<Jsonified<Awaited<T>>> {
  type Out = Jsonified<Awaited<T>>;
  assertName(name, 'a step');
  if (typeof fn !== 'function') throw new InvalidDefinitionError(`step '${name}': the second argument must be a function`);
  const retries = options?.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) throw new InvalidDefinitionError(`step '${name}': retries must be a whole number ≥ 0`);
  const backoff = options?.backoff ? normaliseBackoff(options.backoff, `step '${name}'`) : undefined;
  const { backend, journal } = host;
  return host.durable<Out>(async (position): Promise<Out | Park> => {
    const recorded = host.entries.get(position);
    let stepAttempt = 0;
    if (recorded) {
      expect(host, position, recorded, 'step', name);
      if (recorded.status !== 'retrying') return answer<Out>(host, recorded);
      if (recorded.retryAt! > backend.clock.now()) return host.park(position, recorded.retryAt);
      stepAttempt = recorded.stepAttempt!;
    }
    for (;;) {
      let value: Awaited<T>;
      try {
        // A step's body is not replayed: what it starts (task.run) is its own side effect, not a checkpointed child.
        value = await runInDurableContext(undefined, () => fn(stepAttempt));
      } catch (thrown) {
        if (host.ended) throw new Fatal(new DurableError('replay ended while the step ran'));
        const retry = stepAttempt + 1;
        if (thrown instanceof NonRetryableError || stepAttempt >= retries) {
          const failed = newEntry(host, position, 'step', name, { status: 'failed', error: serializeError(thrown), stepAttempt });
          const winner = await journal.commitStep(failed, recorded ? stepAttempt : undefined);
          if (winner.status === 'retrying') throw concurrentRetry(name, position);
          return answer<Out>(host, winner);
        }
        const delay = backoffDelayMs(backoff, retry);
        if (delay === 0) {
          stepAttempt = retry;
          continue;
        }
        const retryAt = backend.clock.now() + delay;
        const retrying = newEntry(host, position, 'step', name, { status: 'retrying', stepAttempt: retry, retryAt, error: serializeError(thrown) });
        const winner = await journal.commitStep(retrying, recorded ? stepAttempt : undefined);
        if (winner.status === 'retrying' && winner.stepAttempt !== retry) throw concurrentRetry(name, position);
        if (winner.status !== 'retrying') return answer<Out>(host, winner);
        const due = winner.retryAt ?? retryAt;
        await backend.timers.schedule(timerId(host.runId, host.attempt, position, retry, due), due, { runId: host.runId });
        return host.park(position, due);
      }
      const done = newEntry(host, position, 'step', name, { result: encodePayload(value, `step '${name}' result`, host.limit), stepAttempt });
      const winner = await journal.commitStep(done, recorded ? stepAttempt : undefined);
      if (winner.status === 'retrying') throw concurrentRetry(name, position);
      if (winner === done) return decodePayload<Out>(done.result);
      return answer<Out>(host, winner);
    }
  }, scope);
}

/**
 * A concurrent replay moved this step's retry state on: this replay is stale. It must neither answer user code
 * with a retry state (it has no result) nor fail the run; it aborts, and the run's current owner carries on.
 */
function concurrentRetry(name: string, position: number): Fatal {
  return new Fatal(new DurableError(`step '${name}' at position ${position} is being retried by a concurrent replay`), false, true);
}
