/**
 * What a newcomer sees on a fresh clone, in a real browser (Debian's Chromium through
 * playwright-core) against the real service over a scratch copy of the shipped models/: the API
 * docs without console errors and with a "Try it out" that works on whatever port the service has,
 * the Models view comparing the shipped models without a "not the same data" warning (they were
 * tested on the same images) and showing the committed study with both families, a five-face photo whose box tags never cover each other, the model
 * picker whole on a phone, and an undecodable file that shows its error without a broken image.
 */
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listModels } from '@fer/shared';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { DEFAULT_REGISTRY_DIR } from '../../src/config';
import { HAVE_PHOTOS, PHOTOS_DIR } from '../helpers/images';
import { READY_TIMEOUT_MS, startService, waitUntil, type TestService } from '../helpers/service';
import { removeDir } from '../helpers/test-models';
import { launchChromium, LAUNCH_TIMEOUT_MS, screenshot } from './helpers/browser';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + LAUNCH_TIMEOUT_MS + 30_000;
const TEST_TIMEOUT_MS = 60_000;
const UI_TIMEOUT_MS = 20_000;
/** The shared photo of five people standing side by side. */
const FIVE_FACES = 'faceapi_bbt3.jpg';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1360, height: 900 };

let registry: string;
let shipped: Awaited<ReturnType<typeof listModels>>;
let service: TestService;
let browser: Browser;

beforeAll(async () => {
  shipped = await listModels(DEFAULT_REGISTRY_DIR);
  registry = await mkdtemp(path.join(os.tmpdir(), 'fer-shipped-page-'));
  await cp(DEFAULT_REGISTRY_DIR, registry, { recursive: true });
  [service, browser] = await Promise.all([startService({ registry }), launchChromium()]);
  await waitUntil(
    async () => {
      const { models } = (await service.request('GET', '/models')).body as {
        models: { versions: { status: string }[] }[];
      };
      return (
        models.length === shipped.length && models.every((m) => m.versions.every((v) => v.status === 'ready'))
      );
    },
    READY_TIMEOUT_MS,
    'every shipped model to load',
  );
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await service?.close();
  if (registry) await removeDir(registry);
});

/** Console errors and uncaught exceptions of every page opened by a test; each test expects none. */
let errors: string[] = [];
const pages: Page[] = [];

async function open(url: string, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: DESKTOP, ...options });
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // The 422 of an undecodable upload is logged by the browser itself; the page shows it.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      errors.push(`console: ${message.text()}`);
  });
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  pages.push(page);
  await page.goto(service.url + url);
  return page;
}

afterEach(async () => {
  for (const page of pages.splice(0)) await page.context().close();
  const seen = errors;
  errors = [];
  expect(seen).toEqual([]);
});

describe('API docs', () => {
  test(
    'render without a CSP violation, and "Try it out" reaches this service on its own port',
    async () => {
      const page = await open('/docs');
      // The document names no host: the server is this one, whatever its port.
      await expect(page.locator('.servers select').inputValue()).resolves.toBe('/');
      await page.locator('#operations-models-listModels .opblock-summary').click();
      await page.getByRole('button', { name: 'Try it out' }).click();
      await page.getByRole('button', { name: 'Execute' }).click();
      const url = page.locator('#operations-models-listModels .request-url pre');
      await expect(url.textContent()).resolves.toBe(`${service.url}/models`);
      const status = page.locator(
        '#operations-models-listModels .live-responses-table td.response-col_status:not(.col_header)',
      );
      await status.waitFor();
      await expect(status.textContent()).resolves.toBe('200');
      await screenshot(page, 'docs-try-it-out');
    },
    TEST_TIMEOUT_MS,
  );
});

describe('Models view', () => {
  test(
    'compares the shipped models without warning that their test data differ',
    async () => {
      const page = await open('/?view=models');
      await page.waitForSelector('#comparison-table');
      const heads = await page.locator('#comparison-table thead th').allTextContents();
      // Every shipped model's newest version, by name.
      const newest = shipped.map((model) => `${model.name} v${model.latest}`).sort();
      expect(newest.length).toBeGreaterThanOrEqual(2);
      expect(heads.map((t) => t.trim().toLowerCase())).toEqual(['metric', ...newest]);
      await expect(page.locator('#comparison-table tbody').textContent()).resolves.toContain('3,533');
      await expect(page.getByRole('note').count()).resolves.toBe(0);
      await expect(page.getByText('not evaluated on the same data').count()).resolves.toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'shows the committed study (docs/study) with both families of the shipped models',
    async () => {
      const page = await open('/?view=models');
      await page.waitForSelector('#study-table');
      await expect(page.locator('#study-title').textContent()).resolves.toBe('The study: ResNet vs DenseNet');
      const families = await page.locator('.study-families li').allTextContents();
      expect(families.map((f) => f.trim())).toEqual([
        'ResNet: resnet-small, resnet-small-x3',
        'DenseNet: densenet-small',
      ]);
      const rows = await page.locator('#study-table tbody th').allTextContents();
      expect(rows.some((r) => r.startsWith('densenet-small'))).toBe(true);
      expect(rows.some((r) => r.startsWith('resnet-small'))).toBe(true);
      await screenshot(page, 'shipped-study');
    },
    TEST_TIMEOUT_MS,
  );
});

/** The rectangles of the face boxes' tags as the page shows them, in CSS pixels. */
function tagRects(page: Page): Promise<{ left: number; top: number; right: number; bottom: number }[]> {
  return page.locator('#photo-overlay .face-box__tag').evaluateAll((tags) =>
    tags.map((tag) => {
      const r = tag.getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    }),
  );
}

describe('a five-face photo', () => {
  const photoTest = HAVE_PHOTOS ? test : test.skip;
  if (!HAVE_PHOTOS) console.warn(`Skipping the five-face browser test: ${PHOTOS_DIR} is absent.`);

  photoTest.each([
    ['a desktop', DESKTOP],
    ['a 390-pixel phone', PHONE],
  ])(
    `${FIVE_FACES} on %s: no face's tag covers another's, and every tag stays in the picture`,
    async (_name, viewport) => {
      const page = await open('/', { viewport });
      await page.waitForSelector('#model-select:not([disabled])');
      const answer = page.waitForResponse((r) => r.url().includes('/predict'));
      await page.setInputFiles('#file-input', {
        name: FIVE_FACES,
        mimeType: 'image/jpeg',
        buffer: await readFile(path.join(PHOTOS_DIR, FIVE_FACES)),
      });
      const faces = ((await (await answer).json()) as { faces: unknown[] }).faces.length;
      expect(faces).toBeGreaterThanOrEqual(4);
      await page.waitForSelector('.face-card');
      const rects = await tagRects(page);
      expect(rects).toHaveLength(faces);
      const picture = await page.locator('#photo-image').boundingBox();
      if (!picture) throw new Error('the photo is not displayed');
      for (const [i, a] of rects.entries()) {
        expect(a.left).toBeGreaterThanOrEqual(picture.x - 1);
        expect(a.right).toBeLessThanOrEqual(picture.x + picture.width + 1);
        expect(a.top).toBeGreaterThanOrEqual(picture.y - 1);
        expect(a.bottom).toBeLessThanOrEqual(picture.y + picture.height + 1);
        for (const b of rects.slice(i + 1)) {
          const apart = a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
          expect(apart).toBe(true);
        }
      }
      // Every tag still shows its face's number.
      const numbers = await page.locator('#photo-overlay .face-box__tag .face-number').allTextContents();
      expect(numbers).toEqual(Array.from({ length: faces }, (_, i) => String(i + 1)));
      await screenshot(page, `five-faces-${viewport.width}`);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('a phone-sized screen', () => {
  test(
    'shows the chosen model and version in the picker whole',
    async () => {
      const page = await open('/', { viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
      const select = page.locator('#model-select:not([disabled])');
      await select.waitFor();
      // A copy of the picker at its natural width (Chromium sizes a select to its widest option,
      // arrow included) is what the picker needs to show every option whole.
      const widths = (await select.evaluate(`(() => {
        const select = document.getElementById('model-select');
        const copy = select.cloneNode(true);
        copy.removeAttribute('id');
        Object.assign(copy.style, { position: 'absolute', width: 'auto', maxWidth: 'none', flex: 'none' });
        select.parentElement.append(copy);
        const needed = copy.getBoundingClientRect().width;
        copy.remove();
        return { needed, shown: select.getBoundingClientRect().width };
      })()`)) as { needed: number; shown: number };
      expect(widths.shown).toBeGreaterThanOrEqual(widths.needed);
      await expect(select.inputValue()).resolves.toBe('resnet-small-x3');
      await expect(page.evaluate('document.documentElement.scrollWidth')).resolves.toBeLessThanOrEqual(
        PHONE.width,
      );
    },
    TEST_TIMEOUT_MS,
  );
});

describe('an undecodable file', () => {
  test(
    'shows the API’s error and a note instead of a broken image',
    async () => {
      const page = await open('/');
      await page.waitForSelector('#model-select:not([disabled])');
      const answer = page.waitForResponse((r) => r.url().includes('/predict'));
      await page.setInputFiles('#file-input', {
        name: 'notes.jpg',
        mimeType: 'image/jpeg',
        buffer: Buffer.from('these bytes are text, not a JPEG '.repeat(20)),
      });
      expect((await answer).status()).toBe(422);
      await expect(page.getByRole('alert').locator('.alert__code').textContent()).resolves.toBe(
        'UNDECODABLE_IMAGE',
      );
      await page.locator('#photo-no-preview').waitFor();
      await expect(page.locator('#photo-image').isHidden()).resolves.toBe(true);
      await expect(page.locator('#photo-caption').textContent()).resolves.toMatch(/no preview$/);
      await screenshot(page, 'undecodable-no-preview');
    },
    TEST_TIMEOUT_MS,
  );
});
