/**
 * Large run outputs live in their own item. The run item holds the input (up to 256 KiB) and, once the run
 * succeeds, the output (up to 256 KiB too): together over DynamoDB's 400 KB item limit. An output over
 * `INLINE_OUTPUT_LIMIT` is therefore written first to `RUN#<runId>` / `OUTPUT#<ref>` (a fresh `ref` per
 * write, so a worker that lost its lease can never overwrite the output another worker recorded), and
 * the run item gets `outputRef = <ref>` in the same conditional update that would have set `output`.
 * Readers put it back: `loadRun` finds the item in its Query; `getRun` and friends read it with one more
 * GetItem. Small outputs (the common case) stay inline and cost nothing extra.
 */
import { randomUUID } from 'node:crypto';
import type { RunRecord } from '../../ports.ts';
import type { RunPatch } from '../shared/run-patch.ts';

/** Outputs up to this many bytes (UTF-8) stay on the run item: input + output + the rest stays under 400 KB. */
export const INLINE_OUTPUT_LIMIT = 64 * 1024;
/** Run item attribute naming the output item. */
export const OUTPUT_REF = 'outputRef';

/** A run item as stored: a RunRecord, perhaps with a reference to its output item. */
export type StoredRun = RunRecord & { [OUTPUT_REF]?: string };

/** True when `output` must go to its own item. */
export function mustSpill(output: string | undefined): output is string {
  return output !== undefined && Buffer.byteLength(output, 'utf8') > INLINE_OUTPUT_LIMIT;
}

/** A spilled output: the item to write first, and the patch to apply to the run item instead. */
export interface SpilledPatch {
  spill?: { ref: string; output: string };
  patch: RunPatch;
}

/**
 * Rewrites `patch` so that a large `set.output` becomes `set.outputRef` (the caller writes the output item
 * first), and so that any other change of `output` drops a stale reference.
 */
export function spillPatch(patch: RunPatch): SpilledPatch {
  const output = patch.set?.output;
  const removesOutput = patch.remove?.includes('output') ?? false;
  if (!removesOutput && mustSpill(output)) {
    const ref = randomUUID();
    const { output: _inline, ...rest } = patch.set!;
    const set = { ...rest, [OUTPUT_REF]: ref } as RunPatch['set'];
    return { spill: { ref, output }, patch: { ...patch, set, remove: [...(patch.remove ?? []), 'output'] } };
  }
  if (removesOutput || (patch.set && 'output' in patch.set)) {
    return { patch: { ...patch, remove: [...(patch.remove ?? []), OUTPUT_REF as keyof RunRecord] } };
  }
  return { patch };
}
