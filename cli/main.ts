/**
 * The `durable` command line (bin/durable.js runs this through tsx). Resolves with the exit code:
 * 0 success, 1 a failed operation (or `tail` of a run that did not succeed), 2 a usage error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DirectApi } from './api/direct-api.ts';
import { DEFAULT_URL, HttpApi } from './api/http-api.ts';
import type { DurableApi } from './api/types.ts';
import { UsageError, type Command, type CommandContext, type Io } from './command.ts';
import { dev } from './commands/dev.ts';
import { CRON_COMMANDS } from './commands/crons.ts';
import { push } from './commands/push.ts';
import { runsCancel, runsExport, runsFork, runsGet, runsList } from './commands/runs.ts';
import { replay } from './commands/replay.ts';
import { start } from './commands/start.ts';
import { tail } from './commands/tail.ts';
import { createStyle, wantsColour } from './output.ts';

export const COMMANDS: readonly Command[] = [dev, runsList, runsGet, runsCancel, runsFork, runsExport, start, push, tail, replay, ...CRON_COMMANDS];

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  aws: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const GLOBAL_HELP = [
  `--url URL   the dev server (default $DURABLE_URL or ${DEFAULT_URL})`,
  '--aws       talk to AWS directly with Durable.fromEnv() (runs list/get/cancel/fork/export, push, tail, crons)',
  '--json      machine-readable JSON on stdout',
  '-h, --help  this help',
];

export function defaultIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

export async function main(argv: readonly string[], io: Io = defaultIo()): Promise<number> {
  const style = createStyle(wantsColour(io.stdout, io.env));
  const errStyle = createStyle(wantsColour(io.stderr, io.env));
  const json = argv.includes('--json');
  const words = positionalWords(argv);
  const first = words[0];

  if (argv.includes('--version') || argv.includes('-v')) {
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  if (first === undefined || first === 'help') {
    const target = first === 'help' ? findCommand(words.slice(1)) : undefined;
    const asked = first === 'help' || argv.includes('--help') || argv.includes('-h');
    (asked ? io.stdout : io.stderr).write(target ? commandHelp(target) : globalHelp());
    return asked ? 0 : 2;
  }

  const command = findCommand(words);
  if (!command) {
    if (first === 'runs' || first === 'crons') {
      const asked = argv.includes('--help') || argv.includes('-h');
      (asked ? io.stdout : io.stderr).write(groupHelp(first));
      return asked ? 0 : 2;
    }
    io.stderr.write(`${errStyle.red('error')}: unknown command '${first}'\n\n${globalHelp()}`);
    return 2;
  }

  let api: DurableApi | undefined;
  try {
    const depth = command.name.split(' ').length;
    const parsed = parseArgs({
      args: [...argv],
      options: { ...(command.remote ? GLOBAL_OPTIONS : { json: GLOBAL_OPTIONS.json, help: GLOBAL_OPTIONS.help }), ...command.options },
      allowPositionals: true,
      strict: true,
    });
    const values = parsed.values as Record<string, string | boolean | undefined>;
    if (values.help) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    const positionals = parsed.positionals.slice(depth);
    const { min, max, names } = command.positionals;
    if (positionals.length < min) throw new UsageError(`missing ${names.slice(positionals.length, min).join(' ')}`);
    if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]}'`);
    if (values.aws && typeof values.url === 'string') throw new UsageError('pass either --aws or --url, not both');

    const ctx: CommandContext = {
      io,
      style,
      json,
      positionals,
      values,
      print: (line) => void io.stdout.write(`${line}\n`),
      api: () => (api ??= createApi(values, io)),
    };
    return await command.run(ctx);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (usage) {
      io.stderr.write(`${errStyle.red('error')}: ${e.message}\nusage: ${command.usage}\nrun 'durable ${command.name} --help' for more\n`);
      return 2;
    }
    if (json) io.stdout.write(`${JSON.stringify({ error: { name: e.name, message: e.message } })}\n`);
    else io.stderr.write(`${errStyle.red('error')}: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}\n`);
    return 1;
  } finally {
    await api?.close().catch(() => undefined);
  }
}

function createApi(values: Record<string, string | boolean | undefined>, io: Io): DurableApi {
  // Loaded on demand: the HTTP commands never load the sdk (nor the AWS SDK), which keeps them quick to start.
  if (values.aws) return new DirectApi(import('../sdk/index.ts').then((m) => m.Durable.fromEnv()), 'AWS');
  const url = typeof values.url === 'string' ? values.url : (io.env.DURABLE_URL ?? DEFAULT_URL);
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must be an http(s) URL, got '${url}'`);
  return new HttpApi(url);
}


/** The positional words of the command line (lenient: the strict parse comes once the command is known). */
function positionalWords(argv: readonly string[]): string[] {
  const options = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options)) as NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  return parseArgs({ args: [...argv], options, allowPositionals: true, strict: false }).positionals;
}

function findCommand(words: readonly string[]): Command | undefined {
  return COMMANDS.find((c) => c.name.split(' ').every((part, i) => words[i] === part));
}

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'durable: the durable-tasks command line',
    '',
    'usage: durable <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary.replace(/ \(.*\)|\. .*$/, '')}`),
    '',
    'options:',
    ...alignColumns(GLOBAL_HELP),
    '',
    "Run 'durable <command> --help' for a command's options. Docs: cli/README.md",
    '',
  ].join('\n');
}

function groupHelp(group: 'runs' | 'crons'): string {
  const commands = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  const verbs = commands.map((c) => c.name.split(' ')[1]).join('|');
  return [`usage: durable ${group} ${verbs}`, '', ...commands.map((c) => `  ${c.usage}\n      ${c.summary}`), ''].join('\n');
}

export function commandHelp(command: Command): string {
  const lines = [`usage: ${command.usage}`, '', command.summary + '.'];
  if (command.details) lines.push('', command.details);
  const own = command.optionHelp ?? [];
  const global = command.remote ? GLOBAL_HELP : GLOBAL_HELP.filter((l) => l.startsWith('--json') || l.startsWith('-h'));
  lines.push('', 'options:', ...alignColumns([...own, ...global]), '');
  return lines.join('\n');
}

/** Re-aligns `flag   description` lines so the descriptions start in one column. */
function alignColumns(lines: readonly string[]): string[] {
  const rows = lines.map((l) => {
    const m = /^(\S+(?: \S+)*?)\s{2,}(.*)$/.exec(l);
    return m ? [m[1]!, m[2]!] : [l, ''];
  });
  const width = Math.max(...rows.map(([flag]) => flag!.length));
  return rows.map(([flag, text]) => `  ${flag!.padEnd(width)}  ${text}`.trimEnd());
}

function version(): string {
  // cli/main.ts in the sources, dist/cli/main.js in the package.
  const path = import.meta.url.endsWith('.ts') ? '../package.json' : '../../package.json';
  const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
