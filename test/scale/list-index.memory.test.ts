import { memoryHarness } from '../contract/harness.ts';
import { listIndexContract } from './list-index.contract.ts';

listIndexContract('memory adapters', memoryHarness);
