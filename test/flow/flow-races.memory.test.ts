import { flowRacesContract } from './flow-races.contract.ts';
import { memoryHarness } from '../contract/harness.ts';

flowRacesContract('test environment (memory adapters)', memoryHarness);
