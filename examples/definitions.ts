/** Every example workflow, defined on one client. */
import type { Durable } from 'durable-tasks';
import { defineSimple } from './simple.ts';
import { defineSleep } from './sleep.ts';
import { defineWaitForEvent } from './wait-for-event.ts';
import { defineOrGroup } from './or-group.ts';
import { registerDagExample } from './dag.ts';
import { defineFanOut } from './fan-out.ts';
import { defineNightlyReport } from './cron.ts';

export function defineExamples(durable: Durable) {
  return {
    simple: defineSimple(durable),
    sleep: defineSleep(durable),
    waitForEvent: defineWaitForEvent(durable),
    orGroup: defineOrGroup(durable),
    dag: registerDagExample(durable),
    fanOut: defineFanOut(durable),
    nightlyReport: defineNightlyReport(durable),
  };
}

export type Examples = ReturnType<typeof defineExamples>;
