/**
 * Service latencies the simulation adds to every request attempt: log-normal distributions fitted to a median
 * and a 99th percentile. Each figure says where it comes from; where no percentile is published the p99 is an
 * assumption and marked so.
 */

export interface LatencySpec {
  p50Ms: number;
  p99Ms: number;
  source: string;
}

export const LATENCY: Record<'DynamoDB' | 'SQS' | 'EventBridge' | 'Scheduler' | 'EventBridgeDelivery' | 'LambdaInvoke', LatencySpec> = {
  // "single-digit millisecond latency" (on-demand capacity mode page); p50 4 ms, p99 9 ms taken inside that bound.
  DynamoDB: { p50Ms: 4, p99Ms: 9, source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html (single-digit ms)' },
  // Amazon's own re-measurement of a 1 KB SendMessage: 16 ms; p99 assumed 4x the median.
  SQS: { p50Ms: 16, p99Ms: 64, source: 'https://paperzz.com/doc/8847683/cloud-performance-benchmark-series (16 ms per 1 KB send; p99 assumed)' },
  // PutEvents API call; same assumption as SQS (no published percentile).
  EventBridge: { p50Ms: 16, p99Ms: 64, source: 'assumed equal to SQS SendMessage (no published figure)' },
  Scheduler: { p50Ms: 16, p99Ms: 64, source: 'assumed equal to SQS SendMessage (no published figure)' },
  // PutEvents -> target: Amazon Key's event bus, 80 ms p90 (AWS blog, summarised); p50 50 ms, p99 150 ms fitted around it.
  EventBridgeDelivery: { p50Ms: 50, p99Ms: 150, source: 'https://earezki.com/ai-news/2026-02-04-mastering-millisecond-latency-and-millions-of-events-the-event-driven-architecture-behind-the-amazon-key-suite/ (80 ms p90)' },
  // A warm Lambda invocation's service overhead: assumed (cold starts are not modelled).
  LambdaInvoke: { p50Ms: 2, p99Ms: 10, source: 'assumed (warm invocations; cold starts not modelled)' },
};

/** Seeded (mulberry32), so a run is reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal sampler with the given median and 99th percentile. */
export function lognormal(spec: LatencySpec, random: () => number): () => number {
  const mu = Math.log(spec.p50Ms);
  const sigma = Math.log(spec.p99Ms / spec.p50Ms) / 2.3263;
  return () => {
    const u = Math.max(random(), 1e-12);
    const v = random();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.exp(mu + sigma * z);
  };
}
