import { afterAll } from 'vitest';
import { runViewContract } from './run-view.contract.ts';
import { awsHarnessFactory } from './harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

runViewContract('aws adapters on dynalite + fauxqs', aws.factory);
