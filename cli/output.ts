/**
 * Terminal output: colour and a spinner only on a TTY with NO_COLOR unset; plain text when piped.
 */
import type { OperationView, RunDetailsJson, RunSummary } from './api/types.ts';

export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  blue(text: string): string;
  magenta(text: string): string;
  cyan(text: string): string;
  gray(text: string): string;
}

export interface OutputStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Colour on a TTY unless NO_COLOR is set (https://no-color.org) or TERM=dumb. */
export function wantsColour(stream: OutputStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export function createStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (text: string) => (enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    magenta: wrap(35, 39),
    cyan: wrap(36, 39),
    gray: wrap(90, 39),
  };
}

/** `text` (the status itself by default) in the status's colour. */
export function colourStatus(status: string, style: Style, text = status): string {
  switch (status) {
    case 'SUCCEEDED':
      return style.green(text);
    case 'FAILED':
      return style.red(text);
    case 'RUNNING':
      return style.blue(text);
    case 'WAITING':
      return style.yellow(text);
    case 'CANCELLED':
      return style.magenta(text);
    default:
      return style.gray(text);
  }
}

/** A compact one-line JSON preview, cut at `max` characters. */
export function preview(value: unknown, max = 80): string {
  if (value === undefined) return '';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `1.2s`, `3m 4s`, `2h 5m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED']);

export function runDuration(run: { status: string; createdAt: string; updatedAt: string }, now = Date.now()): number {
  const end = TERMINAL.has(run.status) ? Date.parse(run.updatedAt) : now;
  return end - Date.parse(run.createdAt);
}

/** A table with one row per run: status, name, run id, created, duration. */
export function formatRunsTable(runs: readonly RunSummary[], style: Style): string {
  if (runs.length === 0) return style.dim('no runs') + '\n';
  const rows = runs.map((r) => [r.status, r.name, r.runId, r.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), formatDuration(runDuration(r))]);
  const header = ['STATUS', 'NAME', 'RUN ID', 'CREATED', 'DURATION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[], colour: (cell: string, i: number) => string) =>
    cells.map((cell, i) => colour(i === cells.length - 1 ? cell : cell.padEnd(widths[i]!), i)).join('  ').trimEnd();
  return [
    line(header, (c) => style.dim(c)),
    ...rows.map((row) => line(row, (c, i) => (i === 0 ? colourStatus(row[0]!, style, c) : i === 2 ? style.gray(c) : c))),
  ].join('\n') + '\n';
}

const ICONS: Record<string, string> = { done: '✓', failed: '✗', retrying: '↻', waiting: '…', sleeping: '…', interrupted: '·' };

/** One line for a journal entry: `✓ step charge → {"ok":true}`. */
export function formatOperation(op: OperationView, style: Style): string {
  const icon = ICONS[op.status] ?? '·';
  const colouredIcon = op.status === 'done' ? style.green(icon) : op.status === 'failed' ? style.red(icon) : style.yellow(icon);
  const attempt = op.attempt > 0 ? style.dim(`[attempt ${op.attempt + 1}] `) : '';
  const name = op.name ? ` ${style.bold(op.name)}` : '';
  return `${colouredIcon} ${attempt}${style.cyan(op.kind)}${name}${describeOperation(op, style)}`;
}

function describeOperation(op: OperationView, style: Style): string {
  const parts: string[] = [];
  if (op.status === 'waiting') {
    for (const w of op.waitingFor ?? []) {
      if (w.type === 'sleep') parts.push(`sleep until ${w.dueAt ?? '?'}`);
      else if (w.type === 'event') parts.push(`event '${w.eventKey ?? w.key}'${w.expression ? ` if ${w.expression}` : ''}${w.scope ? ` (scope ${w.scope})` : ''}`);
      else if (w.type === 'child') parts.push(`child run ${w.childRunId ?? w.key}`);
      else parts.push(`${w.type} ${w.key}`);
    }
    return parts.length ? style.dim(` waiting for ${parts.join(' or ')}`) : style.dim(' waiting');
  }
  if (op.status === 'sleeping') return style.yellow(` sleeping until ${op.dueAt ?? '?'}`);
  if (op.status === 'interrupted') return style.dim(` interrupted (was due ${op.dueAt ?? '?'})`);
  if (op.status === 'retrying') {
    return style.yellow(` retrying${op.dueAt ? ` at ${op.dueAt}` : ''}`) + (op.error ? style.dim(`: ${op.error.name}: ${op.error.message}`) : '');
  }
  if (op.error) return style.red(` ${op.error.name}: ${op.error.message}`);
  if (op.kind === 'sleep' && op.dueAt) parts.push(`woke at ${op.dueAt}`);
  const child = childRunOf(op);
  if (child) parts.push(`run ${child}`);
  else if (op.resolvedBy && op.resolvedBy !== op.name) parts.push(`resolved by ${op.resolvedBy}`);
  if (op.result !== undefined && op.kind !== 'sleep') parts.push(`→ ${preview(op.result)}`);
  return parts.length ? ` ${style.dim(parts.join(' '))}` : '';
}

/** The child run an operation started, when it did. */
export function childRunOf(op: OperationView): string | undefined {
  if (op.kind !== 'child' && op.kind !== 'spawn') return undefined;
  const fromWait = op.waitingFor?.find((w) => w.childRunId)?.childRunId;
  if (fromWait) return fromWait;
  if (op.kind === 'child' && op.resolvedBy) return op.resolvedBy;
  const result = op.result as { runId?: unknown } | undefined;
  return typeof result?.runId === 'string' ? result.runId : undefined;
}

/** `durable runs get`: the run, its input/output/error, DAG tasks and timeline. */
export function formatRunDetails(run: RunDetailsJson, style: Style): string {
  const lines: string[] = [];
  lines.push(`${style.bold(run.name)}  ${colourStatus(run.status, style)}  ${style.gray(run.runId)}`);
  lines.push(`${style.dim('created')}  ${run.createdAt}   ${style.dim('duration')} ${formatDuration(runDuration(run))}${run.attempt > 0 ? `   ${style.dim('attempt')} ${run.attempt + 1}` : ''}`);
  if (run.parentRunId) lines.push(`${style.dim('parent')}   ${run.parentRunId}`);
  if (run.workflowRunId) lines.push(`${style.dim('workflow')} ${run.workflowRunId}`);
  if (run.waitingFor) lines.push(`${style.dim('queued')}   ${style.yellow(run.waitingFor)}`);
  if (run.idempotencyKey !== undefined) lines.push(`${style.dim('idempotency key')} ${run.idempotencyKey}`);
  if (run.priority !== undefined) lines.push(`${style.dim('priority')} ${run.priority}`);
  lines.push(`${style.dim('input')}    ${preview(run.input, 200)}`);
  if (run.output !== undefined) lines.push(`${style.dim('output')}   ${preview(run.output, 200)}`);
  if (run.error) lines.push(`${style.dim('error')}    ${style.red(`${run.error.name}: ${run.error.message}`)}`);
  if (run.tasks?.length) {
    lines.push('', style.bold('tasks'));
    for (const task of run.tasks) lines.push(`  ${colourStatus(task.status, style, task.status.padEnd(9))} ${task.name}${task.runId ? style.gray(`  ${task.runId}`) : ''}`);
  }
  lines.push('', style.bold('timeline'));
  if (run.operations.length === 0) lines.push(style.dim('  no durable calls yet'));
  for (const op of run.operations) lines.push(`  ${formatOperation(op, style)}`);
  return lines.join('\n') + '\n';
}

/** A one-line spinner on a TTY; does nothing otherwise. */
export class Spinner {
  private frame = 0;
  private text = '';
  private timer: NodeJS.Timeout | undefined;
  private static readonly FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

  constructor(
    private readonly stream: OutputStream,
    private readonly enabled: boolean,
  ) {}

  update(text: string): void {
    this.text = text;
    if (!this.enabled) return;
    if (!this.timer) {
      this.timer = setInterval(() => this.render(), 80);
      this.timer.unref?.();
    }
    this.render();
  }

  /** Prints a line above the spinner. */
  print(line: string): void {
    this.clear();
    this.stream.write(line + '\n');
    if (this.timer) this.render();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private render(): void {
    this.frame = (this.frame + 1) % Spinner.FRAMES.length;
    this.stream.write(`\r\u001b[2K${Spinner.FRAMES[this.frame]} ${this.text}`);
  }

  private clear(): void {
    if (this.enabled && this.timer) this.stream.write('\r\u001b[2K');
  }
}
