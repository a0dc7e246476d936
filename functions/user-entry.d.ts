/**
 * Type of `durable-tasks-user-entry` for the package build (tsconfig.build.json): the user's worker module, whose
 * default export is a Worker. The construct's bundler aliases the specifier to the user's `entry` file.
 */
import type { Worker } from '../sdk/index.ts';

declare const worker: Worker;
export default worker;
