import type { LogSink } from '../core/engine.ts';

/** Options of `Durable.local`. */
export interface LocalOptions {
  /** Where state is kept. @default '.durable' */
  dir?: string;
  /** Keep state in memory only (nothing on disk). @default false */
  inMemory?: boolean;
  /** Execute runs in this process. @default true */
  worker?: boolean;
  /** Where `ctx.log` lines go. @default console */
  log?: LogSink;
  /** Largest input, output or step result (bytes); above 256 KiB they go to the embedded S3 (fauxqs, kept under `dir`). @default 32 MiB */
  maxPayloadBytes?: number;
}
