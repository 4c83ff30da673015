// Debian's Chromium driven by playwright-core (it cannot download a browser here), with the
// network cut off: pages may reach the server under test and nothing else, and every request
// elsewhere is aborted and recorded, as are page errors and console errors (CSP violations).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `vite build web` into dist/web/, as `npm run build` does: the server under test serves what it finds there at start-up. */
export async function buildConsole(): Promise<void> {
  await promisify(execFile)(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'web'], { cwd: ROOT });
}

/** Playwright's launch() gives each browser a fresh, temporary user data folder. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

export interface OfflineContext {
  context: BrowserContext;
  page: Page;
  /** Requests to anywhere but `origin`: aborted, listed here. */
  foreign: string[];
  /** Uncaught page errors and console errors, a Content-Security-Policy violation among them. */
  errors: string[];
}

export async function offlineContext(browser: Browser, origin: string, options: BrowserContextOptions = {}): Promise<OfflineContext> {
  const context = await browser.newContext({ baseURL: origin, ...options });
  const foreign: string[] = [];
  const errors: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    foreign.push(url);
    return route.abort('internetdisconnected');
  });
  context.on('page', (page) => watch(page, errors));
  const page = await context.newPage();
  return { context, page, foreign, errors };
}

function watch(page: Page, errors: string[]): void {
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${page.url()}: ${message.text()}`);
  });
}
