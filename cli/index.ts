/**
 * The CLI's programmatic surface: start the dev server (HTTP API + dashboard) over any `Durable` client.
 *
 * @example
 * import { startDevServer } from './cli/index.ts';
 * const server = await startDevServer({ durable, port: 0 });
 * console.log(server.url);
 */
export { startDevServer, type DevServer, type DevServerOptions } from './server/dev-server.ts';
export { describeDefinitions, type DefinitionView, type WorkflowTaskView } from './server/definitions.ts';
export { main } from './main.ts';
