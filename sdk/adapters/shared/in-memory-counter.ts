import type { RequestCounter } from '../../ports.ts';

/**
 * A RequestCounter that keeps counts in memory.
 *
 * @example
 * const counter = new InMemoryRequestCounter();
 * countRequests(new DynamoDBClient({}), counter);
 * counter.snapshot(); // { 'DynamoDB.PutItem': 3, 'DynamoDB.Query': 1 }
 */
export class InMemoryRequestCounter implements RequestCounter {
  private readonly counts = new Map<string, number>();

  count(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  /** A copy of the counts so far, keyed by `Service.Operation`, in name order. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Forgets every count (benchmarks measure one phase at a time). */
  reset(): void {
    this.counts.clear();
  }
}
