import { dagContract } from './dag.contract.ts';
import { memoryHarness } from '../contract/harness.ts';

dagContract('memory adapters', memoryHarness);
