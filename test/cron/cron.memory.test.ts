import { cronContract } from './cron.contract.ts';
import { memoryHarness } from '../contract/harness.ts';

cronContract('memory', memoryHarness);
