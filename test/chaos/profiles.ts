/**
 * The fault profiles: per-call probabilities of each fault by port, and the per-operation crash rate. A schedule
 * runs under one of them (`CHAOS_PROFILE=<name>` replays one).
 */
/** Per-call probabilities by port, plus the per-operation crash rate. All zero: a clean schedule. */
export interface FaultProfile {
  name: string;
  storeRead: { throwBefore: number; delay: number };
  storeWrite: { throwBefore: number; throwAfter: number; delay: number; stall: number };
  dispatch: { throwBefore: number; throwAfter: number; delay: number; duplicate: number; hold: number; drop: number };
  timers: { throwBefore: number; throwAfter: number; delay: number };
  bus: { throwBefore: number; throwAfter: number; delay: number };
  /** Probability that a process or routing operation crashes at one of its first `crashWithin` calls. */
  crash: number;
  crashWithin: number;
  /** Real milliseconds for a delay (AWS mode); 0: a few event-loop turns (deterministic, memory mode). */
  realDelayMs: number;
}

const none = { throwBefore: 0, throwAfter: 0, delay: 0 };
export const CLEAN: FaultProfile = {
  name: 'clean',
  storeRead: { throwBefore: 0, delay: 0 },
  storeWrite: { ...none, stall: 0 },
  dispatch: { ...none, duplicate: 0, hold: 0, drop: 0 },
  timers: { ...none },
  bus: { ...none },
  crash: 0,
  crashWithin: 1,
  realDelayMs: 0,
};

/** Races only: duplicates, reordering, delays and two workers, but nothing fails. */
export const RACES: FaultProfile = {
  ...CLEAN,
  name: 'races',
  storeRead: { throwBefore: 0, delay: 0.15 },
  storeWrite: { ...none, delay: 0.15, stall: 0 },
  dispatch: { ...none, delay: 0.1, duplicate: 0.2, hold: 0.15, drop: 0 },
  timers: { ...none, delay: 0.1 },
  bus: { ...none, delay: 0.1 },
};

/** Everything, no throw-after: a side effect must then run exactly once per successful attempt unless a crash or stall hit it. */
export const NO_THROW_AFTER: FaultProfile = {
  name: 'no-throw-after',
  storeRead: { throwBefore: 0.02, delay: 0.1 },
  storeWrite: { throwBefore: 0.02, throwAfter: 0, delay: 0.1, stall: 0.004 },
  dispatch: { throwBefore: 0.03, throwAfter: 0, delay: 0.1, duplicate: 0.1, hold: 0.1, drop: 0.03 },
  timers: { throwBefore: 0.03, throwAfter: 0, delay: 0.1 },
  bus: { throwBefore: 0.05, throwAfter: 0, delay: 0.1 },
  crash: 0.08,
  crashWithin: 25,
  realDelayMs: 0,
};

/** Everything at once. */
export const ALL: FaultProfile = {
  name: 'all',
  storeRead: { throwBefore: 0.02, delay: 0.1 },
  storeWrite: { throwBefore: 0.02, throwAfter: 0.02, delay: 0.1, stall: 0.004 },
  dispatch: { throwBefore: 0.03, throwAfter: 0.03, delay: 0.1, duplicate: 0.1, hold: 0.1, drop: 0.03 },
  timers: { throwBefore: 0.03, throwAfter: 0.03, delay: 0.1 },
  bus: { throwBefore: 0.04, throwAfter: 0.04, delay: 0.1 },
  crash: 0.08,
  crashWithin: 25,
  realDelayMs: 0,
};

export const PROFILES: readonly FaultProfile[] = [CLEAN, RACES, NO_THROW_AFTER, ALL];
