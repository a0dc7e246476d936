import { afterAll } from 'vitest';
import { flowContract } from './flow.contract.ts';
import { awsHarnessFactory } from '../contract/harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

flowContract('aws adapters on dynalite + fauxqs (the embedded default)', aws.factory);
