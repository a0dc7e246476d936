/**
 * dynalite (4.x) ends the key and value streams behind its Query and Scan by calling `iterator.return()`, a method
 * abstract-level 3's iterators do not have: so every Query left a LevelDB iterator open for the life of the process,
 * held in the database's resource set (about eight per run, ~3.5 KB of heap each run, plus the native snapshot each
 * one pins, which grew RSS by ~170 KB per run in the soak, bench/README.md). Giving the iterators a `return` that
 * closes them lets dynalite's own clean-up run. Patched once, on the copy of abstract-level that dynalite's
 * `level` loads; a later abstract-level with its own `return` is left alone.
 */
import { createRequire } from 'node:module';

let patched = false;

export function closeDynaliteIterators(): void {
  if (patched) return;
  patched = true;
  const fromHere = createRequire(import.meta.url);
  const fromDynalite = createRequire(fromHere.resolve('dynalite'));
  const fromLevel = createRequire(fromDynalite.resolve('level'));
  const { AbstractIterator } = fromLevel('abstract-level') as { AbstractIterator: { prototype: object } };
  const common = Object.getPrototypeOf(AbstractIterator.prototype) as { return?: unknown };
  if (typeof common.return === 'function') return;
  Object.defineProperty(common, 'return', {
    configurable: true,
    writable: true,
    async value(this: { close(): Promise<void> }) {
      await this.close();
      return { done: true, value: undefined };
    },
  });
}
