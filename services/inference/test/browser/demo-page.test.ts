/**
 * The demo page in a real browser (Debian's Chromium through playwright-core) against the real
 * service over a registry with trained models (helpers/trained-registry.ts): photo upload with one
 * box and one bar chart per face, the model picker remembered in the URL, model cards and the
 * side-by-side comparison, the API's error messages, polite retries of 503, camera mode with the
 * fake device and one request in flight at most, a phone-sized screen, the keyboard, and axe's
 * accessibility rules (labels, names, contrast). Screenshots go to artifacts/browser/.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, BrowserContext, BrowserContextOptions, Page, Response } from 'playwright-core';
import type { ModelMetadata } from '@fer/shared';
import { faceCrop, HAVE_PHOTOS, PHOTOS_DIR } from '../helpers/images';
import { READY_TIMEOUT_MS, startService, waitUntil, type TestService } from '../helpers/service';
import { publishNextVersion, removeDir, TEST_MODEL } from '../helpers/test-models';
import { axeViolations, launchChromium, LAUNCH_TIMEOUT_MS, screenshot } from './helpers/browser';
import {
  TRAINED_MODELS,
  TRAIN_TIMEOUT_MS,
  trainedRegistry,
  type TrainedRegistry,
} from './helpers/trained-registry';

const SETUP_TIMEOUT_MS = TRAIN_TIMEOUT_MS + READY_TIMEOUT_MS + LAUNCH_TIMEOUT_MS;
/** One test: a few page loads and predictions on a busy 2-core machine. */
const TEST_TIMEOUT_MS = 60_000;
/** Waiting for something to appear on the page. */
const UI_TIMEOUT_MS = 20_000;
/** The group photo of the shared set with four people facing the camera. */
const GROUP_PHOTO = 'faceapi_bbt1.jpg';
/** A box drawn on the page may be off from the API's box by rounding and borders, in CSS pixels. */
const BOX_TOLERANCE_PX = 4;
/** Camera mode runs this long in its test. */
const CAMERA_RUN_MS = 3000;
/** Delay added to every /predict answer in the camera test, so overlapping requests would show. */
const CAMERA_ANSWER_DELAY_MS = 300;
/** After "Stop camera", no frame may be sent within this time. */
const AFTER_STOP_MS = 800;
/** Timer slack when checking that a retry waited for Retry-After. */
const TIMER_SLACK_MS = 50;
/** A phone-sized screen (CSS pixels). */
const PHONE = { width: 390, height: 844 };
/** The newly published version is noticed by the watcher and loaded within this time. */
const RELOAD_TIMEOUT_MS = 30_000;

let registry: TrainedRegistry;
let service: TestService;
let browser: Browser;

beforeAll(async () => {
  [registry, browser] = await Promise.all([trainedRegistry(), launchChromium()]);
  service = await startService({ registry: registry.dir, env: { STUDY_DIR: registry.studyDir } });
  // /readyz needs one loaded version; the page lists the others as loading until they are.
  await waitUntil(
    async () => {
      const { models } = (await service.request('GET', '/models')).body as {
        models: { versions: { status: string }[] }[];
      };
      return (
        models.length === 1 + TRAINED_MODELS.length &&
        models.every((m) => m.versions.every((v) => v.status === 'ready'))
      );
    },
    READY_TIMEOUT_MS,
    'every model version to load',
  );
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await service?.close();
  await registry?.remove();
});

interface Session {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and console errors of the page; every test expects none. */
  errors: string[];
}

const sessions: Session[] = [];

/** A fresh browser context on `path` of the service, with the model list loaded. */
async function open(path = '/', options: BrowserContextOptions = {}): Promise<Session> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, ...options });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Failed resource loads are logged by the browser itself: the tests that cause them (error
    // answers) check what the page shows instead.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      errors.push(`console: ${message.text()}`);
  });
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.goto(service.url + path);
  await page.waitForSelector('#model-select:not([disabled])');
  const session = { context, page, errors };
  sessions.push(session);
  return session;
}

afterEach(async () => {
  const open = sessions.splice(0);
  for (const session of open) await session.context.close();
  expect(open.flatMap((s) => s.errors)).toEqual([]);
});

const isPredict = (response: Response) =>
  response.url().includes('/predict') && response.request().method() === 'POST';

/** A 240x240 PNG drawn from the tests' synthetic face crop (no detector finds a face in it). */
async function drawnFace(): Promise<Buffer> {
  return sharp(await faceCrop('png', 1))
    .resize(240, 240, { kernel: 'nearest' })
    .png()
    .toBuffer();
}

/** A plain grey picture with nothing in it. */
function emptyPicture(): Promise<Buffer> {
  return sharp({ create: { width: 320, height: 240, channels: 3, background: '#7a7f8c' } })
    .png()
    .toBuffer();
}

/** Chooses a file in the page's file input and returns the /predict answer it caused. */
async function upload(page: Page, name: string, buffer: Buffer, mimeType = 'image/png'): Promise<Response> {
  const answer = page.waitForResponse(isPredict);
  await page.setInputFiles('#file-input', { name, mimeType, buffer });
  return answer;
}

/**
 * Waits until the page says which model answered: the response event comes before the page has read
 * the body and rendered it, and an earlier answer may still be on screen meanwhile.
 */
async function answeredBy(page: Page, text: string): Promise<void> {
  await page.locator('#answered-by', { hasText: text }).waitFor();
  await expect(page.locator('#answered-by').textContent()).resolves.toMatch(text);
}

async function metadataOf(name: string, version = 1): Promise<ModelMetadata> {
  return JSON.parse(
    await readFile(path.join(registry.dir, name, String(version), 'metadata.json'), 'utf8'),
  ) as ModelMetadata;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** Text of every element matching `selector`, trimmed. */
function texts(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((elements) => elements.map((e) => (e.textContent ?? '').trim()));
}

/** Waits until the image `selector` has loaded (the model card's curves come from the report route). */
async function imageLoaded(page: Page, selector: string): Promise<void> {
  await page.waitForSelector(selector);
  await waitUntil(
    () =>
      page.locator(selector).evaluate((element) => {
        const image = element as unknown as { complete: boolean; naturalWidth: number };
        return image.complete && image.naturalWidth > 0;
      }),
    UI_TIMEOUT_MS,
    `${selector} to load`,
  );
}

/**
 * How far the page is wider than `width` CSS pixels (0 when nothing sticks out). Measured against
 * the device width, not innerWidth: a mobile browser widens its layout viewport to fit content.
 */
function horizontalOverflow(page: Page, width: number): Promise<number> {
  return page.evaluate(`Math.max(0, document.documentElement.scrollWidth - ${width})`) as Promise<number>;
}

describe('photo upload', () => {
  const photoTest = HAVE_PHOTOS ? test : test.skip;
  if (!HAVE_PHOTOS) console.warn(`Skipping the group-photo browser test: ${PHOTOS_DIR} is absent.`);

  photoTest(
    `a group photo (${GROUP_PHOTO}): one box and one bar chart per face, where the API says`,
    async () => {
      const { page } = await open();
      const bytes = await readFile(path.join(PHOTOS_DIR, GROUP_PHOTO));
      const answer = await upload(page, GROUP_PHOTO, bytes, 'image/jpeg');
      expect(answer.status()).toBe(200);
      const body = await answer.json();
      expect(body.faces.length).toBeGreaterThanOrEqual(2);
      await page.waitForSelector('.face-card');

      await expect(page.locator('#photo-overlay .face-box').count()).resolves.toBe(body.faces.length);
      await expect(page.locator('.face-card').count()).resolves.toBe(body.faces.length);
      const classes = Object.keys(body.faces[0].probabilities);
      for (const [i, face] of body.faces.entries()) {
        const card = page.locator('.face-card').nth(i);
        await expect(card.locator('.bar').count()).resolves.toBe(classes.length);
        await expect(texts(page, `.face-card >> nth=${i} >> .bar__name`)).resolves.toEqual(classes);
        await expect(card.locator('.face-card__label').textContent()).resolves.toBe(face.label);
      }
      await expect(page.locator('#face-count').textContent()).resolves.toBe(
        `${body.faces.length} faces found`,
      );
      await expect(page.locator('#answered-by').textContent()).resolves.toMatch(
        new RegExp(`^Answered by ${body.model.name} v${body.model.version} in [0-9.]+ m?s$`),
      );

      // Each box sits over its face: the API's pixel box scaled to the displayed picture.
      const image = await page.locator('#photo-image').boundingBox();
      if (!image) throw new Error('the photo is not displayed');
      const scale = image.width / body.image.width;
      for (const [i, face] of body.faces.entries()) {
        const box = await page.locator('#photo-overlay .face-box').nth(i).boundingBox();
        if (!box) throw new Error(`box ${i} is not displayed`);
        expect(Math.abs(box.x - (image.x + face.box.left * scale))).toBeLessThanOrEqual(BOX_TOLERANCE_PX);
        expect(Math.abs(box.y - (image.y + face.box.top * scale))).toBeLessThanOrEqual(BOX_TOLERANCE_PX);
        expect(Math.abs(box.width - face.box.width * scale)).toBeLessThanOrEqual(BOX_TOLERANCE_PX);
      }
      // A small dot on each landmark the API gives (eyes, nose, mouth, ears), where it says.
      const points = body.faces.flatMap((face: { landmarks: Record<string, { x: number; y: number }> }) =>
        Object.values(face.landmarks),
      );
      expect(points.length).toBeGreaterThan(0);
      await expect(page.locator('#photo-overlay .face-landmark').count()).resolves.toBe(points.length);
      for (const [i, point] of points.entries()) {
        const dot = await page.locator('#photo-overlay .face-landmark').nth(i).boundingBox();
        if (!dot) throw new Error(`landmark ${i} is not displayed`);
        expect(Math.abs(dot.x + dot.width / 2 - (image.x + point.x * scale))).toBeLessThanOrEqual(
          BOX_TOLERANCE_PX,
        );
        expect(Math.abs(dot.y + dot.height / 2 - (image.y + point.y * scale))).toBeLessThanOrEqual(
          BOX_TOLERANCE_PX,
        );
      }
      await screenshot(page, 'photo-group');
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a drawn face with "Find faces" off: one box over the whole picture and the API’s probabilities as bars',
    async () => {
      const { page } = await open();
      await page.locator('#opt-detect').uncheck({ force: true });
      const answer = await upload(page, 'drawn-face.png', await drawnFace());
      expect(new URL(answer.url()).searchParams.get('crop')).toBe('none');
      const body = await answer.json();
      expect(body.faces).toHaveLength(1);
      await page.waitForSelector('.face-card');
      await expect(page.locator('#photo-overlay .face-box').count()).resolves.toBe(1);
      await expect(page.locator('#face-count').textContent()).resolves.toBe('Whole image as one face');
      const face = body.faces[0];
      const shown = await texts(page, '.face-card .bar__value');
      expect(shown).toEqual(Object.values(face.probabilities as Record<string, number>).map(pct));
      await expect(page.locator('.bar--top .bar__name').textContent()).resolves.toBe(face.label);
      await screenshot(page, 'photo-whole-image');
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a file dragged onto the drop zone is analysed',
    async () => {
      const { page } = await open();
      await page.locator('#opt-detect').uncheck({ force: true });
      const base64 = (await drawnFace()).toString('base64');
      // The DataTransfer is built in the page (a string: this file is type-checked without the DOM library).
      const transfer = await page.evaluateHandle(`(() => {
        const transfer = new DataTransfer();
        const bytes = Uint8Array.from(atob('${base64}'), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
        return transfer;
      })()`);
      await page.dispatchEvent('#dropzone', 'dragenter', { dataTransfer: transfer });
      await expect(page.locator('#dropzone').getAttribute('class')).resolves.toContain('dropzone--dragging');
      const answer = page.waitForResponse(isPredict);
      await page.dispatchEvent('#dropzone', 'drop', { dataTransfer: transfer });
      expect((await answer).status()).toBe(200);
      await page.waitForSelector('.face-card');
      await expect(page.locator('#photo-caption').textContent()).resolves.toMatch(/^dropped\.png · /);
      await expect(page.locator('#dropzone').getAttribute('class')).resolves.not.toContain(
        'dropzone--dragging',
      );
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a picture without a face says so, and offers to classify the whole image',
    async () => {
      const { page } = await open();
      const answer = await upload(page, 'nothing.png', await emptyPicture());
      expect((await answer.json()).faces).toEqual([]);
      await expect(page.locator('#no-faces').textContent()).resolves.toContain('No face found');
      await screenshot(page, 'photo-no-face');
      const again = page.waitForResponse(isPredict);
      await page.getByRole('button', { name: 'Classify the whole image as one face' }).click();
      expect(new URL((await again).url()).searchParams.get('crop')).toBe('none');
      await page.waitForSelector('.face-card');
      await expect(page.locator('#opt-detect').isChecked()).resolves.toBe(false);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a corrupt file shows the API’s own error message',
    async () => {
      const { page } = await open();
      const jpeg = await sharp(await drawnFace())
        .jpeg()
        .toBuffer();
      const answer = await upload(page, 'broken.jpg', jpeg.subarray(0, jpeg.length >> 1), 'image/jpeg');
      expect(answer.status()).toBe(422);
      const { error } = await answer.json();
      expect(error.code).toBe('UNDECODABLE_IMAGE');
      const alert = page.getByRole('alert');
      await expect(alert.locator('.alert__message').textContent()).resolves.toBe(error.message);
      await expect(alert.locator('.alert__code').textContent()).resolves.toBe('UNDECODABLE_IMAGE');
      await expect(alert.locator('.alert__title').textContent()).resolves.toBe(
        'This file could not be read as an image',
      );
      await expect(page.locator('.face-card').count()).resolves.toBe(0);
      await screenshot(page, 'error-undecodable');
    },
    TEST_TIMEOUT_MS,
  );
});

describe('busy service', () => {
  test(
    'a 503 is retried after its Retry-After, with a note on the page, and then answered',
    async () => {
      const { page } = await open();
      const sent: number[] = [];
      await page.route('**/predict**', async (route) => {
        sent.push(Date.now());
        if (sent.length > 1) return route.continue();
        return route.fulfill({
          status: 503,
          headers: { 'retry-after': '1', 'content-type': 'application/json' },
          body: JSON.stringify({
            error: { code: 'OVERLOADED', message: 'The service is overloaded; retry later' },
          }),
        });
      });
      await page.locator('#opt-detect').uncheck({ force: true });
      await page.setInputFiles('#file-input', {
        name: 'face.png',
        mimeType: 'image/png',
        buffer: await drawnFace(),
      });
      await page.waitForSelector('#status.status--busy');
      await expect(page.locator('#status').textContent()).resolves.toMatch(
        /busy \(OVERLOADED\).*attempt 2 of 4/,
      );
      await screenshot(page, 'busy-retrying');
      await page.waitForSelector('.face-card');
      expect(sent).toHaveLength(2);
      expect(sent[1] - sent[0]).toBeGreaterThanOrEqual(1000 - TIMER_SLACK_MS);
      await expect(page.locator('#status').textContent()).resolves.toBe('');
      await expect(page.getByRole('alert').isHidden()).resolves.toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a service that stays busy is given up on after four tries, with its message',
    async () => {
      const { page } = await open();
      let sent = 0;
      await page.route('**/predict**', (route) => {
        sent++;
        return route.fulfill({
          status: 503,
          headers: { 'retry-after': '0', 'content-type': 'application/json' },
          body: JSON.stringify({
            error: { code: 'OVERLOADED', message: 'The service is overloaded; retry later' },
          }),
        });
      });
      await page.setInputFiles('#file-input', {
        name: 'face.png',
        mimeType: 'image/png',
        buffer: await drawnFace(),
      });
      await page.waitForSelector('#error:not([hidden])');
      expect(sent).toBe(4);
      await expect(page.locator('#error .alert__message').textContent()).resolves.toBe(
        'The service is overloaded; retry later',
      );
      await expect(page.locator('#error .alert__title').textContent()).resolves.toBe('The service is busy');
    },
    TEST_TIMEOUT_MS,
  );
});

describe('model picker', () => {
  test(
    'switching model (and pinning a version) is remembered in the URL and used for predictions',
    async () => {
      const version = await publishNextVersion(registry.dir);
      await waitUntil(
        async () => {
          const list = (await service.request('GET', '/models')).body;
          const tiny = list.models.find((m: { name: string }) => m.name === TEST_MODEL);
          return tiny?.versions.some(
            (v: { version: number; status: string }) => v.version === version && v.status === 'ready',
          );
        },
        RELOAD_TIMEOUT_MS,
        `${TEST_MODEL} v${version} to load`,
      );
      const { page } = await open();
      const list = (await service.request('GET', '/models')).body;
      await expect(page.locator('#model-select').inputValue()).resolves.toBe(list.default_model);

      await page.selectOption('#model-select', `${TEST_MODEL}@1`);
      expect(new URL(page.url()).searchParams.get('model')).toBe(TEST_MODEL);
      expect(new URL(page.url()).searchParams.get('version')).toBe('1');
      await page.locator('#opt-detect').uncheck({ force: true });
      const answer = await upload(page, 'face.png', await drawnFace());
      expect(new URL(answer.url()).searchParams.get('model')).toBe(TEST_MODEL);
      expect(new URL(answer.url()).searchParams.get('version')).toBe('1');
      await answeredBy(page, `Answered by ${TEST_MODEL} v1 in`);

      await page.reload();
      await page.waitForSelector('#model-select:not([disabled])');
      await expect(page.locator('#model-select').inputValue()).resolves.toBe(`${TEST_MODEL}@1`);

      // Another model, unpinned: the shown photo is sent again at once.
      await page.locator('#opt-detect').uncheck({ force: true });
      await upload(page, 'face.png', await drawnFace());
      const again = page.waitForResponse(isPredict);
      await page.selectOption('#model-select', 'resnet-tiny');
      const search = new URL(page.url()).searchParams;
      expect([search.get('model'), search.get('version')]).toEqual(['resnet-tiny', null]);
      expect(new URL((await again).url()).searchParams.get('model')).toBe('resnet-tiny');
      await answeredBy(page, 'Answered by resnet-tiny v1 in');
      await screenshot(page, 'model-switched');

      // Going to another section and back keeps the choice.
      await page.getByRole('link', { name: 'Models', exact: true }).click();
      await page.waitForSelector('#view-models:not([hidden])');
      await page.getByRole('link', { name: 'Try it', exact: true }).click();
      expect(new URL(page.url()).searchParams.get('model')).toBe('resnet-tiny');
      await expect(page.locator('#model-select').inputValue()).resolves.toBe('resnet-tiny');
    },
    TEST_TIMEOUT_MS + RELOAD_TIMEOUT_MS,
  );
});

describe('model cards', () => {
  test(
    'the Models view compares the trained models side by side with their metadata’s metrics',
    async () => {
      const { page } = await open('/?view=models');
      await page.waitForSelector('#comparison-table');
      const [densenet, resnet] = await Promise.all([metadataOf('densenet-tiny'), metadataOf('resnet-tiny')]);
      const heads = await texts(page, '#comparison-table thead th');
      expect(heads).toEqual(['Metric', 'densenet-tiny v1', 'resnet-tiny v1']);
      const accuracyRow = page.locator('#comparison-table tbody tr', { hasText: 'Test accuracy' });
      const cells = await accuracyRow.locator('td').allTextContents();
      expect(cells[0]).toContain(pct(densenet.metrics!.accuracy));
      expect(cells[1]).toContain(pct(resnet.metrics!.accuracy));
      const better = densenet.metrics!.accuracy > resnet.metrics!.accuracy ? 0 : 1;
      if (densenet.metrics!.accuracy !== resnet.metrics!.accuracy) expect(cells[better]).toContain('best');
      // The untrained model has a tile but no metrics, so it is not compared.
      await expect(page.locator(`[data-model="${TEST_MODEL}"]`).textContent()).resolves.toContain(
        'No test metrics',
      );
      await expect(page.locator('#comparison .confusion').count()).resolves.toBe(2);
      await screenshot(page, 'models-comparison');
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'the Models view shows the study: both families, its table and chart, and a link to the whole page',
    async () => {
      const { page } = await open('/?view=models');
      await page.waitForSelector('#study-table');
      await expect(page.locator('#study-title').textContent()).resolves.toBe('The study: ResNet vs DenseNet');
      expect(await texts(page, '.study-families li')).toEqual([
        `ResNet: resnet-tiny, ${TEST_MODEL}`,
        'DenseNet: densenet-tiny',
      ]);
      const study = JSON.parse(await readFile(path.join(registry.studyDir, 'study.json'), 'utf8')) as {
        rows: { name: string; accuracy: number }[];
      };
      expect(await texts(page, '#study-table tbody th')).toEqual(study.rows.map((r) => `${r.name} v1`));
      const densenetRow = await page
        .locator('#study-table tbody tr', { hasText: 'densenet-tiny' })
        .textContent();
      expect(densenetRow).toContain('DenseNet');
      expect(densenetRow).toContain(pct(study.rows.find((r) => r.name === 'densenet-tiny')!.accuracy));
      await imageLoaded(page, '.study-chart');
      const link = page.getByRole('link', { name: /The whole study/ });
      const href = await link.getAttribute('href');
      const whole = await service.request('GET', href!);
      expect(whole.status).toBe(200);
      expect(whole.text).toMatch(/^# The study: ResNet vs DenseNet\n/);
      // Each tile names its family.
      await expect(
        page.locator('[data-model="densenet-tiny"] .model-tile__arch').textContent(),
      ).resolves.toMatch(/^DenseNet · densenet-tiny · /);
      expect(await axeViolations(page)).toEqual([]);
      await screenshot(page, 'models-study');
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'opening a model card shows its metrics, per-class table, confusion matrix, calibration and training curves',
    async () => {
      const { page } = await open('/?view=models');
      const curves = page.waitForResponse((r) =>
        r.url().endsWith('/models/resnet-tiny/versions/1/report/curves.svg'),
      );
      await page.getByRole('link', { name: 'Model card of resnet-tiny' }).click();
      expect(new URL(page.url()).searchParams.get('view')).toBe('card');
      await page.waitForSelector('#card-metrics');
      const metadata = await metadataOf('resnet-tiny');
      const metrics = metadata.metrics!;
      const tiles = await texts(page, '#card-metrics .tile__value');
      expect(tiles.slice(0, 3)).toEqual([
        pct(metrics.accuracy),
        pct(metrics.macro_f1),
        String(metrics.samples),
      ]);
      await expect(page.locator('#card-title').textContent()).resolves.toBe('resnet-tiny v1');

      const rows = await texts(page, '#per-class-table tbody th');
      expect(rows).toEqual(metadata.classes);
      const f1 = await texts(page, '#per-class-table tbody td:nth-child(4)');
      expect(f1).toEqual(metadata.classes.map((c) => pct(metrics.per_class[c].f1)));

      const counts = await page
        .locator('#view-card .confusion tbody tr')
        .evaluateAll((rows) =>
          rows.map((r) => [...r.querySelectorAll('td')].map((td) => Number(td.firstChild?.textContent))),
        );
      expect(counts).toEqual(metrics.confusion_matrix);

      // Calibration: the test split's figures, each class's ECE and the reliability diagram.
      const calibration = metrics.calibration!;
      await expect(texts(page, '#card-calibration .tile__value')).resolves.toEqual([
        pct(calibration.ece),
        calibration.nll.toFixed(3),
        calibration.brier.toFixed(3),
      ]);
      await expect(texts(page, '#calibration-table tbody td')).resolves.toEqual(
        metadata.classes.map((c) => pct(calibration.per_class_ece[c])),
      );
      await expect(page.locator('#view-card .facts').first().textContent()).resolves.toContain(
        `${metadata.calibration!.fitted_on.samples} validation images, never the test split`,
      );
      await imageLoaded(page, '#reliability-image');

      expect((await curves).status()).toBe(200);
      await imageLoaded(page, '#curves-image');
      await expect(page.locator('#curves-image').getAttribute('alt')).resolves.toMatch(
        /^Training curves of resnet-tiny v1: .*4 epochs; best validation accuracy/,
      );
      const files = await texts(page, '.file-list__name');
      expect(files).toEqual(
        expect.arrayContaining(['curves.svg', 'confusion.svg', 'report.md', 'epochs.jsonl']),
      );
      await page.getByText('Read report.md').click();
      await waitUntil(
        async () => ((await page.locator('.report-text').textContent()) ?? '').startsWith('# resnet-tiny'),
        UI_TIMEOUT_MS,
        'report.md to show',
      );
      await screenshot(page, 'model-card');

      // Back to the list with the browser's Back button.
      await page.goBack();
      await page.waitForSelector('#view-models:not([hidden])');
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a version without metrics says so on its card',
    async () => {
      const { page } = await open(`/?view=card&model=${TEST_MODEL}&version=1`);
      await page.waitForSelector('#card-no-metrics');
      await expect(page.locator('#curves-title').count()).resolves.toBe(1);
      await expect(page.locator('#view-card').textContent()).resolves.toContain('no training report');
    },
    TEST_TIMEOUT_MS,
  );
});

describe('camera', () => {
  test(
    'frames from the fake camera are classified live, never more than one request in flight',
    async () => {
      const { page } = await open();
      let inFlight = 0;
      let maxInFlight = 0;
      const sentAt: number[] = [];
      const predicts = (url: string) => url.includes('/predict');
      page.on('request', (request) => {
        if (!predicts(request.url())) return;
        sentAt.push(Date.now());
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
      });
      const done = (request: { url(): string }) => {
        if (predicts(request.url())) inFlight--;
      };
      page.on('requestfinished', done);
      page.on('requestfailed', done);
      // Slow answers: a page that sent on a timer instead of after each answer would overlap them.
      await page.route('**/predict**', async (route) => {
        await new Promise((resolve) => setTimeout(resolve, CAMERA_ANSWER_DELAY_MS));
        await route.continue();
      });

      await page.getByRole('radio', { name: 'Camera' }).check({ force: true });
      await page.locator('#opt-detect').uncheck({ force: true });
      await page.getByRole('button', { name: 'Start camera' }).click();
      await page.waitForSelector('#camera-overlay .face-box');
      await page.waitForTimeout(CAMERA_RUN_MS);
      await expect(page.locator('#camera-stats').textContent()).resolves.toMatch(
        /^Live · [0-9.]+ frames\/s · [0-9.]+ m?s per answer$/,
      );
      await expect(page.locator('.face-card').count()).resolves.toBe(1);
      await screenshot(page, 'camera-live');

      await page.getByRole('button', { name: 'Stop camera' }).click();
      const stoppedAt = Date.now();
      const sentBeforeStop = sentAt.length;
      await page.waitForTimeout(AFTER_STOP_MS);
      expect(maxInFlight).toBe(1);
      expect(inFlight).toBe(0);
      // A steady stream, no faster than one answer (delayed by the route) at a time allows...
      expect(sentBeforeStop).toBeGreaterThanOrEqual(3);
      expect(sentBeforeStop).toBeLessThanOrEqual(
        Math.floor((stoppedAt - sentAt[0]) / CAMERA_ANSWER_DELAY_MS) + 1,
      );
      // ...and nothing once stopped.
      expect(sentAt.length).toBe(sentBeforeStop);
      await expect(page.locator('#camera-idle').isVisible()).resolves.toBe(true);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('phone-sized screen', () => {
  test(
    'every view fits a 390-pixel-wide screen without sideways scrolling',
    async () => {
      const { page } = await open('/', {
        viewport: PHONE,
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 2,
      });
      for (const name of ['Try it', 'Models', 'API docs (opens in a new tab)']) {
        await expect(page.getByRole('link', { name, exact: true }).isVisible()).resolves.toBe(true);
      }
      await expect(page.getByRole('button', { name: 'Choose a photo' }).isVisible()).resolves.toBe(true);
      await page.locator('#opt-detect').uncheck({ force: true });
      await upload(page, 'face.png', await drawnFace());
      await page.waitForSelector('.face-card');
      expect(await horizontalOverflow(page, PHONE.width)).toBe(0);
      await screenshot(page, 'phone-try');

      await page.getByRole('link', { name: 'Models', exact: true }).click();
      await page.waitForSelector('#comparison-table');
      expect(await horizontalOverflow(page, PHONE.width)).toBe(0);
      await screenshot(page, 'phone-models');

      await page.getByRole('link', { name: 'Model card of densenet-tiny' }).click();
      await page.waitForSelector('#card-metrics');
      await imageLoaded(page, '#curves-image');
      expect(await horizontalOverflow(page, PHONE.width)).toBe(0);
      await screenshot(page, 'phone-card');
    },
    TEST_TIMEOUT_MS,
  );
});

describe('keyboard and accessibility', () => {
  /** The focused element, described as "tag#id" or "tag:text". */
  function focused(page: Page): Promise<string> {
    return page.evaluate(`(() => {
      const e = document.activeElement;
      if (!e) return '';
      return e.id ? e.tagName.toLowerCase() + '#' + e.id : e.tagName.toLowerCase() + ':' + (e.textContent || '').trim();
    })()`) as Promise<string>;
  }

  test(
    'the page works from the keyboard: skip link, visible focus, model picker, source switch, file chooser',
    async () => {
      const { page } = await open();
      // Playwright turns on file-chooser interception without waiting for the browser to confirm
      // it; listening this early keeps the Enter below from racing a native (uncaught) chooser.
      page.on('filechooser', () => undefined);
      await page.keyboard.press('Tab');
      await expect(focused(page)).resolves.toBe('a:Skip to main content');
      await page.keyboard.press('Enter');
      await expect(focused(page)).resolves.toBe('main#main');

      // Tab order from the top: brand, sections, model picker, then the input panel's controls.
      await page.locator('.brand').focus();
      const order: string[] = [];
      for (let i = 0; i < 8; i++) {
        await page.keyboard.press('Tab');
        order.push(await focused(page));
      }
      expect(order.slice(0, 4)).toEqual([
        'a:Try it',
        'a:Models',
        'a:API docs (opens in a new tab)',
        'select#model-select',
      ]);
      expect(order).toContain('button#choose-file');

      // The focus ring is visible.
      await page.locator('#choose-file').focus();
      const outline = (await page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle + ' ' + getComputedStyle(document.activeElement).outlineWidth",
      )) as string;
      expect(outline).toMatch(/^solid [2-9]/);

      // Model picker with arrow keys.
      const before = await page.locator('#model-select').inputValue();
      await page.locator('#model-select').focus();
      await page.keyboard.press('ArrowDown');
      const after = await page.locator('#model-select').inputValue();
      expect(after).not.toBe(before);
      expect(new URL(page.url()).searchParams.get('model')).toBe(after.split('@')[0]);

      // "Find faces" switch with Space, the file chooser with Enter.
      await page.locator('#opt-detect').focus();
      await page.keyboard.press('Space');
      await expect(page.locator('#opt-detect').isChecked()).resolves.toBe(false);
      await page.locator('#choose-file').focus();
      const chooser = page.waitForEvent('filechooser');
      await page.keyboard.press('Enter');
      const answer = page.waitForResponse(isPredict);
      await (await chooser).setFiles({ name: 'face.png', mimeType: 'image/png', buffer: await drawnFace() });
      expect((await answer).status()).toBe(200);
      await page.waitForSelector('.face-card');
      await expect(page.locator('#live-summary').textContent()).resolves.toMatch(/^Face 1: \w+, \d+%\.$/);

      // Photo/Camera is a radio group: arrow keys move between them.
      await page.getByRole('radio', { name: 'Photo' }).focus();
      await page.keyboard.press('ArrowRight');
      await expect(page.getByRole('radio', { name: 'Camera' }).isChecked()).resolves.toBe(true);
      await expect(page.locator('#source-camera').isVisible()).resolves.toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  test.each([['light'], ['dark']] as const)(
    'axe finds no accessibility violation on the main views (%s colour scheme)',
    async (colorScheme) => {
      const { page } = await open('/', { colorScheme });
      await page.locator('#opt-detect').uncheck({ force: true });
      await upload(page, 'face.png', await drawnFace());
      await page.waitForSelector('.face-card');
      const found: Record<string, unknown> = {};
      found.try = await axeViolations(page);

      await page.getByRole('link', { name: 'Models', exact: true }).click();
      await page.waitForSelector('#comparison-table');
      found.models = await axeViolations(page);

      await page.getByRole('link', { name: 'Model card of densenet-tiny' }).click();
      await imageLoaded(page, '#curves-image');
      found.card = await axeViolations(page);
      if (colorScheme === 'dark') await screenshot(page, 'model-card-dark');
      expect(found).toEqual({ try: [], models: [], card: [] });
    },
    TEST_TIMEOUT_MS,
  );
});

describe('no model loaded', () => {
  test(
    'an empty registry shows why nothing can be tried, and the page picks up a model once published',
    async () => {
      const emptyRegistry = await mkdtemp(path.join(os.tmpdir(), 'fer-demo-empty-'));
      const empty = await startService({ registry: emptyRegistry, waitFor: 'nothing' });
      try {
        const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
        const page = await context.newPage();
        sessions.push({ context, page, errors: [] });
        await page.goto(empty.url);
        await page.waitForSelector('#no-model-banner:not([hidden])');
        await expect(page.locator('#no-model-banner .banner__title').textContent()).resolves.toBe(
          'No model is loaded yet',
        );
        await expect(page.getByRole('button', { name: 'Choose a photo' }).isDisabled()).resolves.toBe(true);
        await expect(page.locator('#model-select').isDisabled()).resolves.toBe(true);
        await screenshot(page, 'no-model');

        await publishNextVersion(empty.registry);
        await page.waitForSelector('#no-model-banner', { state: 'hidden', timeout: RELOAD_TIMEOUT_MS });
        await expect(page.getByRole('button', { name: 'Choose a photo' }).isEnabled()).resolves.toBe(true);
        await expect(page.locator('#model-select').inputValue()).resolves.toBe(TEST_MODEL);
      } finally {
        await empty.close();
        await removeDir(emptyRegistry);
      }
    },
    TEST_TIMEOUT_MS + RELOAD_TIMEOUT_MS,
  );
});
