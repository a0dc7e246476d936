import { InvalidDurationError } from './errors.ts';

/** A duration: milliseconds as a number, or a string such as `'500ms'`, `'5s'`, `'2m'`, `'1h'`, `'1d'` (units may be combined: `'1h30m'`). */
export type Duration = number | `${number}${DurationUnit}` | (string & {});
type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/** Longest duration accepted (about 10 years): anything longer is almost certainly a unit mistake. */
export const MAX_DURATION_MS = 10 * 365 * UNIT_MS.d!;

/**
 * Parses a duration into milliseconds.
 *
 * @throws {InvalidDurationError} malformed, negative, non-finite, or longer than ten years.
 * @example parseDuration('1h30m') // 5_400_000
 */
export function parseDuration(value: unknown): number {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidDurationError(value, 'it is not a finite number');
    ms = value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') throw new InvalidDurationError(value, 'it is empty');
    if (/^-/.test(text)) throw new InvalidDurationError(value, 'it is negative');
    PART.lastIndex = 0;
    ms = 0;
    let match: RegExpExecArray | null;
    let consumed = 0;
    while ((match = PART.exec(text)) !== null) {
      ms += Number(match[1]) * UNIT_MS[match[2]!]!;
      consumed = PART.lastIndex;
    }
    if (consumed !== text.length) throw new InvalidDurationError(value, 'it is not a number followed by a unit (ms, s, m, h, d, w)');
  } else {
    throw new InvalidDurationError(value, `expected a number of milliseconds or a string, got ${value === null ? 'null' : typeof value}`);
  }
  if (ms < 0) throw new InvalidDurationError(value, 'it is negative');
  if (ms > MAX_DURATION_MS) throw new InvalidDurationError(value, 'it is longer than 10 years');
  return Math.round(ms);
}
