/**
 * The dashboard kept in parts (cli/dashboard/: index.html, dashboard.css, classic scripts) and sent as one page:
 * the dev server inlines every part at start-up (cli/server/dashboard-page.ts), reads only its fixed list of parts,
 * and serves no file by request path.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { DASHBOARD_PARTS, inlineDashboardParts } from '../../cli/server/dashboard-page.ts';
import { startHarness, type Harness } from './helpers.ts';

const DIR = new URL('../../cli/dashboard/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, DIR), 'utf8');

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

/** A raw GET with the path exactly as written (fetch would normalise `..` away). */
function rawGet(path: string): Promise<{ status: number; type: string }> {
  const { port } = new URL(h.server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard page assembled from its parts', () => {
  test('the list of parts is exactly the files next to index.html, and index.html names each once', () => {
    const files = readdirSync(DIR).filter((name) => name !== 'index.html').sort();
    expect([...DASHBOARD_PARTS].sort()).toEqual(files);
    const html = read('index.html');
    for (const name of DASHBOARD_PARTS) {
      const tag = name.endsWith('.css') ? `<link rel="stylesheet" href="${name}">` : `<script src="${name}"></script>`;
      expect(html.split(tag).length - 1, name).toBe(1);
    }
  });

  test('GET / on a running dev server sends one page with every part inlined, as HTML under the same CSP', async () => {
    const res = await fetch(`${h.server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'unsafe-inline'");
    const page = await res.text();
    for (const name of DASHBOARD_PARTS) {
      const element = name.endsWith('.css') ? 'style' : 'script';
      expect(page, name).toContain(`<${element}>\n${read(name)}</${element}>`);
    }
    expect(page).not.toMatch(/<script[^>]*\ssrc=|<link[^>]+stylesheet/);
    // The markup around the parts is index.html's, unchanged.
    const markup = read('index.html');
    expect(page.startsWith(markup.slice(0, markup.indexOf('<link rel="stylesheet"')))).toBe(true);
    expect(page).toContain('<tbody id="runs-body"></tbody>');
  });

  test('no part, and no other file, is served by its path: each is a 404 (traversal included)', async () => {
    const paths = [
      ...DASHBOARD_PARTS.flatMap((name) => [`/${name}`, `/dashboard/${name}`]),
      '/index.html',
      '/cli/dashboard/index.html',
      '/../package.json',
      '/%2e%2e/package.json',
      '/dashboard/..%2f..%2fpackage.json',
      '/dashboard/%2e%2e%2f%2e%2e%2fpackage.json',
    ];
    for (const path of paths) {
      const res = await rawGet(path);
      expect({ path, status: res.status, type: res.type }).toEqual({ path, status: 404, type: 'application/json; charset=utf-8' });
    }
  });
});

describe('inlineDashboardParts', () => {
  const parts = new Map([
    ['a.css', 'b { c: d }\n'],
    ['x.js', "'use strict';\nconst y = `$&$1`;\n"],
  ]);
  const page = '<head><link rel="stylesheet" href="a.css"></head><body><script src="x.js"></script></body>';

  test('replaces each tag by its part, text as written (no `$` replacement patterns)', () => {
    expect(inlineDashboardParts(page, parts)).toBe(
      "<head><style>\nb { c: d }\n</style></head><body><script>\n'use strict';\nconst y = `$&$1`;\n</script></body>",
    );
  });

  test('refuses a page naming a file outside the list, naming a part twice, or leaving one out', () => {
    expect(() => inlineDashboardParts(`${page}<script src="../../package.json"></script>`, parts)).toThrow(
      "the dashboard page names '../../package.json', which is not one of its parts (a.css, x.js)",
    );
    expect(() => inlineDashboardParts(`${page}<script src="x.js"></script>`, parts)).toThrow("names 'x.js' twice");
    expect(() => inlineDashboardParts('<link rel="stylesheet" href="a.css">', parts)).toThrow('does not name its parts x.js');
  });

  test('refuses a part whose text would end its inlined element early', () => {
    expect(() => inlineDashboardParts(page, new Map([...parts, ['x.js', 'const s = "</script>";\n']]))).toThrow(
      "the dashboard part 'x.js' contains '</script', which would end its inlined element",
    );
  });
});
