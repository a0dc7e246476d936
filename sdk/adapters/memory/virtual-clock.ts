import type { TimerClock } from '../shared/real-clock.ts';

export type { TimerClock } from '../shared/real-clock.ts';
export { RealClock } from '../shared/real-clock.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * The engine's own virtual clock: time moves only when `advanceTo` is called. Global `setTimeout` and
 * `Date` are never patched, so user code and libraries keep real time.
 */
export class VirtualClock implements TimerClock {
  private current: number;
  private seq = 0;
  private readonly heap: Pending[] = [];

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        cancel();
        reject(signal!.reason);
      };
      const cancel = this.setTimer(this.current + ms, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  setTimer(at: number, fn: () => void): () => void {
    const item: Pending = { at, seq: this.seq++, fn, cancelled: false };
    this.push(item);
    return () => {
      item.cancelled = true;
      item.fn = noop; // a cancelled timer stays in the heap until it comes up: it must not hold its callback
    };
  }

  /** When the next live timer is due, if any. */
  nextDue(): number | undefined {
    while (this.heap.length && this.heap[0]!.cancelled) this.pop();
    return this.heap[0]?.at;
  }

  /** Moves time to `at` (never backwards), firing every timer due at or before it in due order. */
  fireDue(at: number): number {
    let fired = 0;
    for (;;) {
      const next = this.nextDue();
      if (next === undefined || next > at) break;
      const item = this.pop()!;
      if (item.at > this.current) this.current = item.at;
      fired++;
      item.fn();
    }
    if (at > this.current) this.current = at;
    return fired;
  }

  private push(item: Pending) {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (less(h[parent]!, h[i]!)) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  private pop(): Pending | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

const noop = () => undefined;

function less(a: Pending, b: Pending): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}


/**
 * Moves a virtual clock forward by `ms`: fires every timer due on the way, in due order, and awaits `settle`
 * after each, so work a timer wakes can schedule more timers that still fire within the window.
 */
export async function advanceVirtualTime(clock: VirtualClock, ms: number, settle: () => Promise<void>): Promise<void> {
  const target = clock.now() + ms;
  await settle();
  for (;;) {
    const next = clock.nextDue();
    if (next === undefined || next > target) break;
    clock.fireDue(next);
    await settle();
  }
  clock.fireDue(target);
  await settle();
}
