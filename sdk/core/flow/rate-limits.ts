/**
 * `durable.rateLimits.upsert`: static rate limits, one item per key (sdk/adapters/aws/dynamo-flow.ts).
 */
import type { Backend } from '../../ports.ts';
import { InvalidDefinitionError } from '../errors.ts';
import { durationMs, RateLimitDuration } from './options.ts';
import { flowStoreOf } from './start.ts';

export interface RateLimitUpsert {
  key: string;
  /** Units per window (a whole number ≥ 1). */
  limit: number;
  /** @default RateLimitDuration.SECOND */
  duration?: RateLimitDuration | `${RateLimitDuration}`;
}

export async function upsertRateLimit(backend: Backend, options: RateLimitUpsert): Promise<void> {
  const where = 'rateLimits.upsert';
  if (!options || typeof options !== 'object') throw new InvalidDefinitionError(`${where} needs { key, limit, duration }`);
  if (typeof options.key !== 'string' || options.key === '') throw new InvalidDefinitionError(`${where}: key must be a non-empty string, got ${JSON.stringify(options.key) ?? String(options.key)}`);
  if (typeof options.limit !== 'number' || !Number.isInteger(options.limit) || options.limit < 1) {
    throw new InvalidDefinitionError(`${where}: limit must be a whole number ≥ 1, got ${JSON.stringify(options.limit) ?? String(options.limit)}`);
  }
  const ms = durationMs(options.duration ?? RateLimitDuration.SECOND, 'duration', where);
  await flowStoreOf(backend).upsertRateLimit(options.key, options.limit, ms);
}
