import type { Backend } from '../ports.ts';
import type { LocalOptions } from '../core/client.ts';

/** Placeholder until the embedded default lands: see the AWS adapters issue. */
export async function createLocalBackend(_options: LocalOptions): Promise<Backend> {
  throw new Error('Durable.local() is not available yet');
}
