import { afterAll } from 'vitest';
import { dagContract } from './dag.contract.ts';
import { awsHarnessFactory } from '../contract/harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

dagContract('aws adapters on dynalite + fauxqs', aws.factory);
