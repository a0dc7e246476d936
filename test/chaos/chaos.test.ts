/**
 * The chaos suite: seeded schedules of a random workload under injected faults, on the memory adapters and a
 * virtual clock, checked against the oracle and the invariants of ARCHITECTURE.md. Small by default (part of
 * `npm test`); the large size with `CHAOS_RUNS=1000` (or more); one schedule with
 * `CHAOS_SEED=<n> [CHAOS_PROFILE=<name>]`, as a failing schedule prints.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { PROFILES } from './profiles.ts';
import { runSchedule } from './driver.ts';
import { describeFailure, type ScheduleReport } from './report.ts';
import { summarize } from './summary.ts';

const RUNS_PER_SCHEDULE = 8;
const totalRuns = Number(process.env.CHAOS_RUNS ?? 400);
const onlySeed = process.env.CHAOS_SEED === undefined ? undefined : Number(process.env.CHAOS_SEED);
const onlyProfile = process.env.CHAOS_PROFILE;
const baseSeed = Number(process.env.CHAOS_BASE_SEED ?? 1);

const profiles = onlyProfile ? PROFILES.filter((p) => p.name === onlyProfile) : PROFILES;
if (profiles.length === 0) throw new Error(`unknown CHAOS_PROFILE ${onlyProfile}; one of ${PROFILES.map((p) => p.name).join(', ')}`);
/** Schedules per profile: the runs are shared out evenly; every profile gets distinct seeds. */
const perProfile = Math.max(1, Math.ceil(totalRuns / RUNS_PER_SCHEDULE / profiles.length));
const seedsOf = (p: number) => (onlySeed !== undefined ? [onlySeed] : Array.from({ length: perProfile }, (_, i) => baseSeed + i * PROFILES.length + p));

const reports: ScheduleReport[] = [];
afterAll(() => console.log(summarize('memory', reports)));

describe('chaos (memory adapters, virtual clock)', () => {
  test.each(profiles.map((profile) => [profile.name, profile] as const))(
    'profile %s: every run reaches its oracle outcome; journals, side effects, waiters and wake-ups keep the invariants',
    { timeout: 60 * 60_000 },
    async (_name, profile) => {
      const failed: string[] = [];
      for (const seed of seedsOf(PROFILES.indexOf(profile))) {
        const report = await runSchedule({ seed, runs: RUNS_PER_SCHEDULE, profile });
        reports.push(report);
        if (report.failures.length) {
          console.error(describeFailure(report));
          failed.push(`seed ${seed}: ${report.failures[0]}`);
        }
      }
      expect(failed).toEqual([]);
    },
  );
});
