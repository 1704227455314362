/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser): one launch per test
 * file, headless, with the fake camera so camera mode runs without a device; screenshots of the
 * main states go to artifacts/browser/ (gitignored) for people to look at.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../helpers/test-models';

/** Where Debian's `chromium` package puts the browser (FER_CHROMIUM overrides, for other systems). */
export const CHROMIUM_PATH = process.env.FER_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'artifacts', 'browser');
/** Launch and first page load on a busy 2-core machine. */
export const LAUNCH_TIMEOUT_MS = 60_000;

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // Camera mode: a synthetic video device, and permission granted without a prompt.
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

/**
 * @example const browser = await launchChromium(); ... await browser.close();
 * @throws when Chromium is not installed, naming the package to install.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium, as .ci/run does) or set FER_CHROMIUM`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** Saves a full-page screenshot as artifacts/browser/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

let axeSource: string | null = null;

/**
 * Runs axe-core (WCAG 2.1 A/AA rules and best practices: labels, names, contrast, landmarks...)
 * on the page as it is now and returns its violations, one line-friendly object each. axe is
 * evaluated through the DevTools protocol, which the page's CSP does not restrict.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  // A string, not a function: this file is type-checked without the DOM library.
  return page.evaluate(`
    axe
      .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
      .then((result) => result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(' ')),
      })))
  `) as Promise<AxeViolation[]>;
}
