/**
 * Stream chunks on the dashboard's run timeline, in a real headless Chromium (as dashboard.browser.test.ts): a
 * chunk shows as a "Stream chunk" operation with its place in the stream and its JSON, and a chunk recorded while
 * the page is open appears live. Without /usr/bin/chromium the test is skipped, saying so.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { startHarness, type Harness } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) {
  test.skip(`stream chunks on the dashboard: SKIPPED because ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`, () => {});
} else {
  describe('stream chunks on the dashboard timeline, in headless Chromium', () => {
    let h: Harness;
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      h = await startHarness();
      h.env.durable.durableTask({
        name: 'upload-file',
        fn: async (_: {}, ctx) => {
          ctx.putStream({ uploaded: 10 });
          await ctx.waitForEvent('upload:more');
          ctx.putStream({ uploaded: 100 });
          return 'ok';
        },
      });
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
      });
      page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
      await h?.close();
    });

    test('a run shows its chunks on the timeline, and a new chunk appears live', async () => {
      const { runId } = await h.env.durable.engine.start('upload-file', {});
      await h.env.settle();
      await page.goto(`${h.server.url}/#/runs/${encodeURIComponent(runId)}`);
      const chunks = page.locator(`.detail[data-run-id="${runId}"] ol.timeline li.op[data-kind="stream"]`);
      await expect.poll(() => chunks.count(), { timeout: 5000 }).toBe(1);
      const first = await chunks.nth(0).innerText();
      expect(first).toContain('Stream chunk');
      expect(first).toContain('#1');
      expect(first).toMatch(/"uploaded":\s*10/);
      await h.env.durable.events.push('upload:more', {});
      await h.env.settle();
      await expect.poll(() => chunks.count(), { timeout: 5000 }).toBe(2);
      expect(await chunks.nth(1).innerText()).toMatch(/#2[\s\S]*"uploaded":\s*100/);
      await expect.poll(() => page.locator(`.detail[data-run-id="${runId}"]`).getAttribute('data-status'), { timeout: 5000 }).toBe('SUCCEEDED');
    });
  });
}
