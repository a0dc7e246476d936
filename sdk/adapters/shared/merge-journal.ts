/**
 * How a run store assembles a run's journal for `loadRun` from what it keeps (sdk/core/journal.ts says why an
 * entry may live in three places): entry items, the entries they carry, and the run item's parked entries.
 */
import type { JournalEntry } from '../../ports.ts';

/** A stored entry item: its own entry and the earlier entries it carries. */
export interface EntryItem {
  entry: JournalEntry;
  carried?: readonly JournalEntry[];
}

const key = (e: JournalEntry) => `${e.attempt}/${e.position}`;

/**
 * One entry per (attempt, position): an item's own entry, else one an item carries, else a parked one;
 * sorted by attempt and position. `parked` lists the parked entries no item holds.
 */
export function mergeJournal(items: readonly EntryItem[], parked: readonly JournalEntry[] = []): { entries: JournalEntry[]; parked: JournalEntry[] } {
  const byKey = new Map<string, JournalEntry>();
  for (const item of items) byKey.set(key(item.entry), item.entry);
  for (const item of items) for (const e of item.carried ?? []) if (!byKey.has(key(e))) byKey.set(key(e), e);
  const onlyParked: JournalEntry[] = [];
  for (const e of parked) {
    if (byKey.has(key(e))) continue;
    byKey.set(key(e), e);
    onlyParked.push(e);
  }
  const entries = [...byKey.values()].sort((a, b) => a.attempt - b.attempt || a.position - b.position);
  return { entries, parked: onlyParked };
}
