import type { RequestCounter } from '../../ports.ts';

/** Counts requests by `Service.Operation`. */
export class CountingRequests implements RequestCounter {
  private readonly counts = new Map<string, number>();
  count(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}
