/**
 * The wall clock, shared by the AWS adapters, the embedded default and the in-process worker (the virtual clock of
 * the test environment lives with the memory adapters).
 */
import type { Clock } from '../../ports.ts';

/** A clock that can also call back at a time: the virtual one in tests, the wall clock elsewhere. */
export interface TimerClock extends Clock {
  /** Calls `fn` once this clock reaches `at`. Returns a cancel function. */
  setTimer(at: number, fn: () => void): () => void;
}

/** The wall clock, with timers that survive long delays (setTimeout caps at ~24.8 days). */
export class RealClock implements TimerClock {
  now(): number {
    return Date.now();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        cancel();
        reject(signal!.reason);
      };
      const cancel = this.setTimer(Date.now() + ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
  setTimer(at: number, fn: () => void): () => void {
    let handle: NodeJS.Timeout;
    const arm = () => {
      const delay = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
      handle = setTimeout(() => (Date.now() >= at ? fn() : arm()), delay);
      handle.unref?.();
    };
    arm();
    return () => clearTimeout(handle);
  }
}
