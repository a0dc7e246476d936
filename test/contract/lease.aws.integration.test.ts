import { afterAll } from 'vitest';
import { leaseContract } from './lease.contract.ts';
import { awsHarnessFactory } from './harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

leaseContract('aws adapters on dynalite + fauxqs', aws.factory);
