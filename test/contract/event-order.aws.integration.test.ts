import { afterAll } from 'vitest';
import { eventOrderContract } from './event-order.contract.ts';
import { awsHarnessFactory } from './harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

eventOrderContract('aws adapters on dynalite + fauxqs', aws.factory);
