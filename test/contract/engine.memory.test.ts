import { engineContract } from './engine.contract.ts';
import { memoryHarness } from './harness.ts';

engineContract('memory adapters', memoryHarness);
