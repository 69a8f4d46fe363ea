// A real browser for the HTML report's tests: Debian's chromium (installed by scripts/browser-env.mjs,
// which run-tests.mjs calls when a *.browser.test.ts file is selected) driven by playwright-core.
// One browser per test file; every page gets a network guard that fails the test on any request
// other than the report file itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SERVERLESS_MESH_CHROMIUM ?? '/usr/bin/chromium';

export async function launch(): Promise<Browser> {
  // playwright gives every launch a fresh temporary profile (--user-data-dir) and removes it on close.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--font-render-hinting=none',
    ],
  });
}

export interface ReportPage {
  page: Page;
  context: BrowserContext;
  /** Requests other than the report file (each one is a test failure). */
  requests: string[];
}

const dir = mkdtempSync(join(tmpdir(), 'sm-report-'));
let n = 0;

/** Opens `html` from a file:// URL, as a mail attachment is, with JavaScript on or off. */
export async function openReport(
  browser: Browser,
  html: string,
  opts: { javaScript?: boolean; width?: number; height?: number } = {},
): Promise<ReportPage> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1200, height: opts.height ?? 900 },
    deviceScaleFactor: 1,
    javaScriptEnabled: opts.javaScript ?? false,
    // axe is injected as a script tag; the report's own CSP (default-src 'none') would refuse it.
    bypassCSP: true,
    reducedMotion: 'reduce',
    colorScheme: 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const file = join(dir, `report-${n++}.html`);
  writeFileSync(file, html);
  const url = pathToFileURL(file).href;
  const requests: string[] = [];
  await context.route('**/*', async (route) => {
    const u = route.request().url();
    if (u === url || u.startsWith(`${url}#`)) return route.continue();
    requests.push(u);
    return route.abort();
  });
  context.on('request', (r) => {
    const u = r.url();
    if (u !== url && !u.startsWith(`${url}#`) && !requests.includes(u)) requests.push(u);
  });
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'load' });
  return { page, context, requests };
}
