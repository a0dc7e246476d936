/**
 * `durable dev`: imports the entry module (its `durable` client), serves the HTTP API and the dashboard on
 * 127.0.0.1 until Ctrl-C, then closes the server and the client.
 */
import { relative, resolve } from 'node:path';
import { UsageError, type Command } from '../command.ts';
import { DEFAULT_PORT } from '../api/http-api.ts';
import { LOCAL_ENV } from '../../sdk/adapters/aws/env.ts';
import { devEnvironment, parsePorts } from '../server/dev-environment.ts';

export const DEFAULT_ENTRY = 'examples/worker.ts';

export const dev: Command = {
  name: 'dev',
  usage: 'durable dev [--entry FILE] [--port N | --ports API,DYNAMODB,SQS] [--dir DIR] [--no-worker]',
  summary: 'Serve the local engine: the HTTP API and the dashboard on 127.0.0.1, until Ctrl-C',
  details:
    'FILE must export the client as `durable` (`export const durable = Durable.local({ worker: false })`) and may\n' +
    'default-export a Worker (`export default durable.worker(...)`), which then executes the runs in this process.\n' +
    'Without a Worker, the client itself must execute them (Durable.local() with its embedded worker).\n' +
    'State lives under DIR; stopping loses nothing: the next start resumes every run.\n' +
    'It prints AWS_ENDPOINT_URL_* and DURABLE_* lines (a .env for other processes): with them, the aws CLI, AWS SDKs\n' +
    'and Durable.fromEnv() reach its DynamoDB, SQS and EventBridge (PutEvents) on 127.0.0.1.',
  options: { entry: { type: 'string' }, port: { type: 'string' }, ports: { type: 'string' }, dir: { type: 'string' }, 'no-worker': { type: 'boolean' } },
  optionHelp: [
    `--entry FILE  the module to load (default ${DEFAULT_ENTRY})`,
    `--port N      the API, dashboard and EventBridge port on 127.0.0.1 (default ${DEFAULT_PORT}; 0 picks free ones);`,
    '              DynamoDB listens on N+1 and SQS on N+2',
    '--ports A,D,S the three ports (API and EventBridge, DynamoDB, SQS) one by one',
    '--dir DIR     where local state lives (default .durable), given to the entry as env DURABLE_DIR',
    "--no-worker   do not start the entry's Worker (serve the API and dashboard only)",
  ],
  positionals: { min: 0, max: 0, names: [] },
  remote: false,
  async run(ctx) {
    const { style, io } = ctx;
    const ports = parsePorts(ctx.values.port, ctx.values.ports, DEFAULT_PORT);
    const port = ports.api;
    const entryPath = resolve(io.cwd, typeof ctx.values.entry === 'string' ? ctx.values.entry : DEFAULT_ENTRY);
    // The entry creates its own client; this is how it learns where state should live and where the embedded
    // default's DynamoDB and SQS listen (Durable.local() reads these).
    io.env[LOCAL_ENV.dir] = resolve(io.cwd, typeof ctx.values.dir === 'string' ? ctx.values.dir : (io.env[LOCAL_ENV.dir] ?? '.durable'));
    io.env[LOCAL_ENV.dynamodbPort] = String(ports.dynamodb);
    io.env[LOCAL_ENV.sqsPort] = String(ports.sqs);

    // The server (and with it the sdk) loads only for this command.
    const [{ loadEntry }, { startDevServer }, { describeDefinitions }] = await Promise.all([
      import('../server/entry.ts'),
      import('../server/dev-server.ts'),
      import('../server/definitions.ts'),
    ]);
    const entry = await loadEntry(entryPath);
    const { durable } = entry;
    const server = await startDevServer({ durable, port }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') throw new UsageError(`port ${port} on 127.0.0.1 is in use (another durable dev?): pick another with --port N, or --port 0 for any free one`);
      throw error;
    });
    const worker = ctx.values['no-worker'] ? undefined : entry.worker;
    await worker?.start();
    const env = await devEnvironment(durable, server.url);
    const definitions = describeDefinitions(durable);
    const fromCwd = relative(io.cwd, entryPath);
    const shownEntry = fromCwd && !fromCwd.startsWith('..') ? fromCwd : entryPath;
    if (ctx.json) {
      ctx.print(JSON.stringify({ url: server.url, entry: shownEntry, dir: io.env.DURABLE_DIR, worker: worker?.name ?? null, definitions: definitions.map((d) => d.name), env }));
    } else {
      ctx.print(`${style.bold('durable dev')}  ${style.cyan(server.url)}`);
      ctx.print(`  ${style.dim('entry')}       ${shownEntry}`);
      ctx.print(`  ${style.dim('state')}       ${io.env.DURABLE_DIR}`);
      ctx.print(`  ${style.dim('worker')}      ${worker ? worker.name : style.dim("none started (the client's embedded worker, if any, runs tasks)")}`);
      ctx.print(`  ${style.dim('definitions')} ${definitions.map((d) => `${d.name}${d.kind === 'workflow' ? ' (workflow)' : ''}`).join(', ') || style.yellow('none')}`);
      ctx.print(`  ${style.dim('dashboard')}   ${server.url}/`);
      ctx.print(style.dim('# for other processes (a .env): the aws CLI, AWS SDKs and Durable.fromEnv() reach this server with'));
      for (const [name, value] of Object.entries(env)) ctx.print(`${name}=${value}`);
      ctx.print(style.dim('  Ctrl-C to stop'));
    }

    await new Promise<void>((done) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          // A second Ctrl-C: do not wait for in-flight work.
          process.exit(130);
        }
        stopping = true;
        if (!ctx.json) ctx.print(style.dim(`\n${signal}: stopping (Ctrl-C again to force)`));
        void (async () => {
          await server.close();
          await worker?.stop();
          await durable.close();
          done();
        })();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
