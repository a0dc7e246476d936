/**
 * Loads the module `durable dev` serves: it must export the client as `durable` (a named export, or the
 * default export); a default-exported `Worker` (or one exported as `worker`) is picked up too, and started.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Durable, Worker } from '../../sdk/index.ts';
import { ApiError } from '../api/types.ts';

export interface LoadedEntry {
  durable: Durable;
  worker?: Worker;
  /** The module's export names, for messages. */
  exports: string[];
}

export async function loadEntry(file: string): Promise<LoadedEntry> {
  if (!existsSync(file)) {
    throw new ApiError('EntryNotFoundError', `no entry file at ${file}: pass --entry FILE, a module that exports your client (\`export const durable = Durable.local()\`)`);
  }
  const mod = (await import(pathToFileURL(file).href).catch((error: unknown) => {
    if ((error as { code?: unknown })?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    throw new ApiError('EntryLoadError', `${file} is TypeScript and no TypeScript loader is installed: \`npm install -D tsx\` (durable loads it when present), or pass a .js entry`);
  })) as Record<string, unknown>;
  const exports = Object.keys(mod);
  const durable = [mod.durable, mod.default].find(isDurable);
  if (!durable) {
    throw new ApiError(
      'EntryExportError',
      `${file} does not export a Durable client: add \`export const durable = ...\` (it exports ${exports.length ? exports.join(', ') : 'nothing'})`,
    );
  }
  const worker = [mod.default, mod.worker].find(isWorker);
  return { durable, exports, ...(worker ? { worker } : {}) };
}

/** Duck-typed, so a client created through another copy of the sdk module still counts. */
export function isDurable(value: unknown): value is Durable {
  const v = value as Partial<Durable> | null | undefined;
  return !!v && typeof v === 'object' && typeof v.runs?.get === 'function' && typeof v.events?.push === 'function' && typeof v.engine === 'object';
}

function isWorker(value: unknown): value is Worker {
  const v = value as Partial<Worker> | null | undefined;
  return !!v && typeof v === 'object' && typeof v.start === 'function' && typeof v.lambdaHandler === 'function';
}
