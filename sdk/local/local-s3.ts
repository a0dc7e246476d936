/**
 * The embedded default's S3: fauxqs's S3 emulation, whose objects live in memory, made durable by a store that
 * writes each object through to the state directory (`<dir>/s3/<bucket>/<key, hex>`) and reads back, on first
 * access after a restart, any object it does not hold. Large payloads thus survive a restart like the table.
 *
 * fauxqs exports only `buildApp`, whose `stores` option takes all three of its stores; their classes are
 * loaded from its files (the package's export map hides them). test/local covers a restart.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DurableError } from '../core/errors.ts';
import { pathToFileURL } from 'node:url';

interface S3ObjectLike {
  body: Buffer;
  contentType: string;
  metadata: Record<string, string>;
}

/** What this module needs of fauxqs's S3Store (structural). */
interface S3StoreLike {
  createBucket(name: string): void;
  hasBucket(name: string): boolean;
  putObject(bucket: string, key: string, body: Buffer, contentType?: string, metadata?: Record<string, string>): S3ObjectLike;
  getObject(bucket: string, key: string): S3ObjectLike;
  deleteObject(bucket: string, key: string): void;
}

type StoreClass<T> = new () => T;

/** A module of fauxqs's dist/, found where Node would resolve the package (its export map names only the entry). */
async function fauxqsModule<T>(file: string): Promise<T> {
  const dirs = createRequire(import.meta.url).resolve.paths('fauxqs') ?? [];
  const dist = dirs.map((d) => join(d, 'fauxqs', 'dist')).find((d) => existsSync(join(d, 'app.js')));
  if (!dist) throw new DurableError('the embedded S3 needs the fauxqs package (a dependency of durable-tasks): it was not found');
  return (await import(pathToFileURL(join(dist, file)).href)) as T;
}

/**
 * fauxqs's three stores, the S3 one persisted under `dir` (in memory only when `dir` is undefined), for
 * `buildApp({ stores })`.
 */
export async function fauxqsStores(dir: string | undefined): Promise<{ sqsStore: unknown; snsStore: unknown; s3Store: unknown }> {
  const [{ SqsStore }, { SnsStore }, { S3Store }] = await Promise.all([
    fauxqsModule<{ SqsStore: StoreClass<unknown> }>('sqs/sqsStore.js'),
    fauxqsModule<{ SnsStore: StoreClass<unknown> }>('sns/snsStore.js'),
    fauxqsModule<{ S3Store: StoreClass<S3StoreLike> }>('s3/s3Store.js'),
  ]);
  return { sqsStore: new SqsStore(), snsStore: new SnsStore(), s3Store: dir ? persisted(S3Store, join(dir, 's3')) : new S3Store() };
}

function persisted(Base: StoreClass<S3StoreLike>, root: string): S3StoreLike {
  const file = (bucket: string, key: string) => join(root, bucket, Buffer.from(key, 'utf8').toString('hex'));
  class PersistedS3Store extends Base {
    override createBucket(name: string): void {
      mkdirSync(join(root, name), { recursive: true });
      super.createBucket(name);
    }
    override hasBucket(name: string): boolean {
      if (!super.hasBucket(name) && existsSync(join(root, name))) super.createBucket(name);
      return super.hasBucket(name);
    }
    override putObject(bucket: string, key: string, body: Buffer, contentType?: string, metadata?: Record<string, string>): S3ObjectLike {
      this.hasBucket(bucket);
      const object = super.putObject(bucket, key, body, contentType, metadata);
      const path = file(bucket, key);
      // Written whole, then renamed: a crash leaves the previous object or none, never half of one.
      writeFileSync(`${path}.tmp`, JSON.stringify({ contentType: object.contentType, metadata: object.metadata, body: body.toString('base64') }));
      renameSync(`${path}.tmp`, path);
      return object;
    }
    override getObject(bucket: string, key: string): S3ObjectLike {
      this.hasBucket(bucket);
      try {
        return super.getObject(bucket, key);
      } catch (error) {
        const path = file(bucket, key);
        if (!existsSync(path)) throw error;
        const saved = JSON.parse(readFileSync(path, 'utf8')) as { contentType: string; metadata: Record<string, string>; body: string };
        super.putObject(bucket, key, Buffer.from(saved.body, 'base64'), saved.contentType, saved.metadata);
        return super.getObject(bucket, key);
      }
    }
    override deleteObject(bucket: string, key: string): void {
      this.hasBucket(bucket);
      super.deleteObject(bucket, key);
      rmSync(file(bucket, key), { force: true });
    }
  }
  return new PersistedS3Store();
}
