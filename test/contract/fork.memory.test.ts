import { forkContract } from './fork.contract.ts';
import { memoryHarness } from './harness.ts';

forkContract('memory adapters', memoryHarness);
