import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The system Chromium (Debian's `chromium` package); browser tests skip when it is missing. */
export const CHROMIUM_PATH = process.env.PAVE_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Whether browser tests can run here. */
export const hasChromium = existsSync(CHROMIUM_PATH);

/** Where screenshots of the portal go (committed, for the docs). */
export const SCREENSHOTS_DIR = fileURLToPath(new URL('../../docs/screenshots', import.meta.url));

/** The flags that make Chromium quiet and offline-safe on CI machines (see ENVIRONMENT.md). */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A running Chromium with its own fresh profile. */
export interface TestBrowser {
  context: BrowserContext;
  /** A new tab at 1280x800 (each tab has its own sessionStorage, so its own portal session). */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  /** Saves a PNG of the page's viewport to docs/screenshots/NAME.png and returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  /** Closes the browser and deletes the profile. */
  close(): Promise<void>;
}

/**
 * Launches the system Chromium headless with a fresh `--user-data-dir` (playwright-core sets it through
 * launchPersistentContext). Uncaught errors of the portal's pages are collected into `errors` when given.
 */
export async function launchBrowser(options: { errors?: string[] } = {}): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'pave-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 800 },
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  context.on('weberror', (error) => options.errors?.push(error.error().message));
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  // A persistent context opens with one blank tab; it stays as the context's first page.
  return {
    context,
    async newPage(viewport = { width: 1280, height: 800 }) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      return page;
    },
    async screenshot(page, name) {
      const path = join(SCREENSHOTS_DIR, `${name}.png`);
      await page.screenshot({ path, animations: 'disabled' });
      return path;
    },
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * What the page draws over its open dialog (`[role=dialog]`): for a grid of points inside the dialog's visible
 * box, the elements found there that are not part of it (their tag and text, once each). Empty when the dialog
 * is on top everywhere; a sticky table header or a fixed bar painted over a modal shows up here.
 */
export async function drawnOverDialog(page: Page): Promise<string[]> {
  // A string, as the other page scripts of these tests: the tests are type-checked without the DOM's types.
  return page.evaluate<string[]>(`(() => {
    const dialog = document.querySelector('[role=dialog]');
    if (!dialog) throw new Error('no dialog is open');
    const box = dialog.getBoundingClientRect();
    const left = Math.max(box.left, 0);
    const top = Math.max(box.top, 0);
    const right = Math.min(box.right, window.innerWidth);
    const bottom = Math.min(box.bottom, window.innerHeight);
    const found = new Set();
    for (let x = left + 2; x < right - 2; x += 16)
      for (let y = top + 2; y < bottom - 2; y += 8) {
        const element = document.elementFromPoint(x, y);
        if (element && !dialog.contains(element))
          found.add('<' + element.tagName.toLowerCase() + '> ' + (element.textContent ?? '').trim().slice(0, 40));
      }
    return [...found];
  })()`);
}
