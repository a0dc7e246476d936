import { afterAll } from 'vitest';
import { fanOutContract } from './fan-out.contract.ts';
import { awsHarnessFactory } from './harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

fanOutContract('aws adapters on dynalite + fauxqs', aws.factory);
