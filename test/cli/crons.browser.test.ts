/**
 * The dashboard's crons panel in headless Chromium (as dashboard.browser.test.ts): each cron with its next tick
 * and its latest runs; a run badge opens the run. Skipped, saying so, without /usr/bin/chromium.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startHarness, type Harness } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) {
  test.skip(`crons panel browser test: SKIPPED because ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`, () => {});
} else {
  describe('the dashboard crons panel in headless Chromium', () => {
    let h: Harness;
    let browser: Browser;
    let page: Page;

    beforeAll(async () => {
      h = await startHarness();
      const task = h.env.durable.task({ name: 'quarter-hourly', on: { cron: '*/15 * * * *' }, fn: async () => 'ok' });
      await h.env.durable.crons.create(task, { name: 'hourly-eu', expression: '0 * * * *', input: { region: 'eu' } });
      await h.env.advanceTime('1h');
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'] });
      page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
      await h?.close();
    });

    test('shows each cron with its expression, next tick and latest runs; a run badge opens the run', async () => {
      await page.goto(h.server.url);
      const row = (name: string) => page.locator(`[data-testid="crons-table"] tr[data-cron="${name}"]`);
      await row('hourly-eu').waitFor();
      expect(await page.locator('[data-testid="crons-panel"]').isVisible()).toBe(true);
      const cells = await row('hourly-eu').locator('td').allInnerTexts();
      expect(cells.slice(0, 3)).toEqual(['hourly-eu', 'quarter-hourly', '0 * * * *']);
      expect(cells[3]).toContain('(in ');
      expect(await row('hourly-eu').locator('td.next').getAttribute('title')).toBe('2030-01-01T02:00:00.000Z');
      expect(await row('hourly-eu').locator('.last .badge').allInnerTexts()).toEqual(['SUCCEEDED']);
      expect(await row('quarter-hourly:*/15 * * * *').locator('.last .badge').count()).toBe(4);
      expect(await row('quarter-hourly:*/15 * * * *').locator('td.next').getAttribute('title')).toBe('2030-01-01T01:15:00.000Z');
      await row('hourly-eu').locator('.last .badge').first().click();
      await expect.poll(() => decodeURIComponent(new URL(page.url()).hash)).toBe('#/runs/cron:hourly-eu:2030-01-01T01:00:00.000Z');
      await expect.poll(() => page.locator('[data-testid="run-detail"]').innerText()).toContain('quarter-hourly');
    });
  });
}
