import { memoryHarness } from '../contract/harness.ts';
import { patchedContract } from './patched.contract.ts';

patchedContract('memory adapters', memoryHarness);
