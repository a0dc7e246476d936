/** Small statistics helpers for benchmark samples (all inputs in milliseconds unless named otherwise). */

/** The median of `samples` (mean of the two middle values for an even count). */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/**
 * The `p`-th percentile (0–100) by linear interpolation between closest ranks, as numpy's default.
 *
 * @throws {Error} on an empty sample set.
 * @example
 * percentile([1, 2, 3, 4], 50); // 2.5
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/** Rounds to `digits` decimals (for results.json: figures, not float noise). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Milliseconds `fn` took. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/** Runs `fn` `warmup` times unmeasured, then `runs` times; returns each measured duration. */
export async function repeat(warmup: number, runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push((await timed(fn)).ms);
  return out;
}
