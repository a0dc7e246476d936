import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Small, single-purpose files: no source file over 400 lines, no test file over 600. Sources are the .ts/.tsx/.js/
 * .mjs/.html/.css files (not .d.ts) of the runtime, construct, bench, examples and scripts folders; under test/ only
 * code counts (.ts/.js/.mjs), so recorded data such as JSON histories is exempt. Installed and built output
 * (node_modules, dist, cdk.out, .durable) is never counted.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_FOLDERS = ['sdk', 'cli', 'functions', 'infra', 'bench', 'examples', 'scripts'];
const SOURCE = /\.(ts|tsx|js|mjs|html|css)$/;
const TEST_CODE = /\.(ts|js|mjs)$/;
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', 'cdk.out', '.durable']);

/** Repository paths of the files under `folder` whose name `pattern` matches (declaration files left out). */
function filesUnder(folder: string, pattern: RegExp): string[] {
  return (readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && pattern.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name).slice(ROOT.length).split('\\').join('/'))
    .filter((path) => !path.split('/').some((segment) => SKIPPED_FOLDERS.has(segment)))
    .sort();
}

/** Lines as `wc -l` counts them for a file ending in a newline, and its last line too when it does not. */
function lineCount(path: string): number {
  const text = readFileSync(join(ROOT, path), 'utf8');
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

/** `path: N lines (limit L)` for each file over `limit`. */
function oversized(paths: string[], limit: number): string[] {
  return paths.flatMap((path) => {
    const lines = lineCount(path);
    return lines > limit ? [`${path}: ${lines} lines (limit ${limit})`] : [];
  });
}

describe('file sizes', () => {
  it('finds the files it measures (a wrong root or pattern would pass vacuously)', () => {
    const sources = SOURCE_FOLDERS.flatMap((folder) => filesUnder(folder, SOURCE));
    expect(sources).toEqual(expect.arrayContaining(['sdk/index.ts', 'cli/dashboard/index.html', 'scripts/build.mjs']));
    expect(filesUnder('test', TEST_CODE)).toContain('test/package/file-size.test.ts');
  });

  it('no source file under sdk/, cli/, functions/, infra/, bench/, examples/ or scripts/ is over 400 lines', () => {
    const sources = SOURCE_FOLDERS.flatMap((folder) => filesUnder(folder, SOURCE));
    expect(oversized(sources, 400), 'split these files by responsibility').toEqual([]);
  });

  it('no test file (.ts/.js/.mjs under test/) is over 600 lines', () => {
    expect(oversized(filesUnder('test', TEST_CODE), 600), 'split these test files').toEqual([]);
  });
});
