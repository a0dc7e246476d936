/**
 * The test environment's payload store: large payloads kept in this process's memory. A blob past its
 * `expiresAt` (the TTL its run's items get) is gone, as the S3 bucket's lifecycle rule removes it on AWS.
 */
import type { PayloadStore } from '../../ports.ts';

export class MemoryPayloadStore implements PayloadStore {
  private readonly blobs = new Map<string, { body: string; expiresAt: number | undefined }>();

  constructor(private readonly now: () => number) {}

  async put(key: string, body: string, options: { expiresAt?: number } = {}): Promise<void> {
    this.blobs.set(key, { body, expiresAt: options.expiresAt });
  }

  async get(key: string): Promise<string | undefined> {
    const blob = this.blobs.get(key);
    if (blob && blob.expiresAt !== undefined && blob.expiresAt * 1000 <= this.now()) {
      this.blobs.delete(key);
      return undefined;
    }
    return blob?.body;
  }

  /** The keys held (and not expired), for tests. */
  keys(): string[] {
    const now = this.now();
    return [...this.blobs].filter(([, b]) => b.expiresAt === undefined || b.expiresAt * 1000 > now).map(([key]) => key);
  }
}
