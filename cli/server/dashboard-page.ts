/**
 * The dashboard page as the dev server sends it: cli/dashboard/index.html with each part it names (its stylesheet
 * and its scripts) inlined in place of the tag, once, at start-up. The browser gets one self-contained page (no
 * other request, the same Content-Security-Policy as before the page was split), and the server reads files from a
 * fixed list only: no request path ever names a file.
 */
import { readFile } from 'node:fs/promises';

/** Every file of the dashboard besides index.html, in the folder next to it. Nothing else is ever read. */
export const DASHBOARD_PARTS = ['dashboard.css', 'base.js', 'runs.js', 'crons.js', 'run-detail.js', 'timeline.js', 'dag.js', 'main.js'] as const;

const DASHBOARD_DIR = new URL('../dashboard/', import.meta.url);
/** The tags index.html names its parts with, exactly as it writes them. */
const PART_TAG = /<link rel="stylesheet" href="([^"]*)">|<script src="([^"]*)"><\/script>/g;

/** Reads index.html and its parts (from `dir`, cli/dashboard/ by default) and returns the assembled page. */
export async function loadDashboardPage(dir: URL = DASHBOARD_DIR): Promise<string> {
  const html = await readFile(new URL('index.html', dir), 'utf8');
  const parts = new Map<string, string>();
  for (const name of DASHBOARD_PARTS) parts.set(name, await readFile(new URL(name, dir), 'utf8'));
  return inlineDashboardParts(html, parts);
}

/**
 * `html` with each `<link rel="stylesheet" href="X">` replaced by `<style>` and each `<script src="X"></script>` by
 * `<script>` holding the text of part X. Throws if the page names a part that is not in `parts`, names one twice,
 * leaves one of `parts` out, or a part's text would end its element early.
 */
export function inlineDashboardParts(html: string, parts: ReadonlyMap<string, string>): string {
  const used = new Set<string>();
  const page = html.replace(PART_TAG, (_tag, css: string | undefined, script: string | undefined) => {
    const name = (css ?? script)!;
    const text = parts.get(name);
    if (text === undefined) throw new Error(`the dashboard page names '${name}', which is not one of its parts (${[...parts.keys()].join(', ')})`);
    if (used.has(name)) throw new Error(`the dashboard page names '${name}' twice`);
    used.add(name);
    const element = css !== undefined ? 'style' : 'script';
    if (new RegExp(`</${element}`, 'i').test(text)) throw new Error(`the dashboard part '${name}' contains '</${element}', which would end its inlined element`);
    return `<${element}>\n${text}</${element}>`;
  });
  const unused = [...parts.keys()].filter((name) => !used.has(name));
  if (unused.length) throw new Error(`the dashboard page does not name its parts ${unused.join(', ')}`);
  return page;
}
