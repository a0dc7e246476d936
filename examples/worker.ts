/**
 * The worker entry the CDK app deploys (and `durable dev` serves): on Lambda the construct's environment
 * variables are set, so it talks to AWS; anywhere else it runs on the embedded default.
 */
import { Durable } from 'durable-tasks';
import { ENV } from '../sdk/adapters/aws/env.ts';
import { defineExamples } from './definitions.ts';

export const durable = process.env[ENV.tableName] ? Durable.fromEnv() : Durable.local({ dir: process.env.DURABLE_DIR ?? '.durable', worker: false });
export const examples = defineExamples(durable);

export default durable.worker('durable-worker', { workflows: Object.values(examples), slots: 100, durableSlots: 10 });
