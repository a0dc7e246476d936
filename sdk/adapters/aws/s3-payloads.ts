/**
 * Large payloads in S3 (the construct's bucket on AWS; the embedded default's fauxqs S3 locally). One PutObject
 * per large payload written, one GetObject per large payload read. The bucket's lifecycle rule expires blobs
 * as their run's items expire (retention + 366 days after they were written); `expiresAt` is also stored as
 * object metadata, so a blob past it reads as gone even before the rule has removed it.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Clock, PayloadStore, RequestCounter } from '../../ports.ts';
import { countRequests } from './request-counter.ts';

/** The object metadata key holding a blob's expiry (epoch seconds). */
const EXPIRES_AT = 'durable-expires-at';

export interface S3PayloadStoreOptions {
  client: S3Client;
  bucket: string;
  counter: RequestCounter;
  clock: Clock;
}

export class S3PayloadStore implements PayloadStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly clock: Clock;

  constructor(options: S3PayloadStoreOptions) {
    this.client = countRequests(options.client, options.counter);
    this.bucket = options.bucket;
    this.clock = options.clock;
  }

  async put(key: string, body: string, options: { expiresAt?: number } = {}): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json; charset=utf-8',
        ...(options.expiresAt !== undefined ? { Metadata: { [EXPIRES_AT]: String(options.expiresAt) } } : {}),
      }),
    );
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const expiresAt = Number(object.Metadata?.[EXPIRES_AT]);
      if (expiresAt > 0 && expiresAt * 1000 <= this.clock.now()) {
        object.Body?.transformToString().catch(() => undefined); // drain the socket
        return undefined;
      }
      return await object.Body?.transformToString('utf-8');
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}
