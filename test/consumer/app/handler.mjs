// A Lambda handler written without the construct (SAM, SST, serverless-esbuild): bundled with plain esbuild.
import worker from './worker.mjs';

export const handler = worker.lambdaHandler();
