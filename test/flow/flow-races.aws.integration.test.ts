import { afterAll } from 'vitest';
import { flowRacesContract } from './flow-races.contract.ts';
import { awsHarnessFactory } from '../contract/harness.ts';

const aws = awsHarnessFactory();
afterAll(() => aws.stop());

flowRacesContract('aws adapters on dynalite + fauxqs (the embedded default)', aws.factory);
