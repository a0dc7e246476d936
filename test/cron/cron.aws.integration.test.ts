import { afterAll } from 'vitest';
import { cronContract } from './cron.contract.ts';
import { awsHarnessFactory } from '../contract/harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

cronContract('aws adapters on dynalite + fauxqs', aws.factory);
