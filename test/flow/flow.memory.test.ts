import { flowContract } from './flow.contract.ts';
import { memoryHarness } from '../contract/harness.ts';

flowContract('test environment (memory adapters)', memoryHarness);
