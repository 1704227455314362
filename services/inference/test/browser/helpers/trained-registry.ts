/**
 * A registry whose models carry real test metrics and training reports, for the demo page's model
 * cards: the training workspace's `npm run train` (a subprocess; the service never imports
 * training) trains two tiny backbones, one ResNet and one DenseNet, for a few epochs on a small
 * synthetic dataset drawn here (stripes whose orientation and period depend on the class), then
 * evaluates, reports and publishes them as the real job does, and writes their comparison, which
 * `npm run study-page` turns into a study page as docs/study is made. The template's `tiny` model
 * (random weights, no metrics) stays in the registry too.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { freshRegistry, removeDir, REPO_ROOT } from '../../helpers/test-models';

const run = promisify(execFile);

/** The dataset's class folders (Kaggle layout, with its "Suprise" spelling). */
const CLASS_FOLDERS = ['Angry', 'Fear', 'Happy', 'Neutral', 'Sad', 'Suprise'];
const SIDE = 48;
const TRAIN_PER_CLASS = 24;
const TEST_PER_CLASS = 8;
export const TRAINED_MODELS = ['resnet-tiny', 'densenet-tiny'] as const;
/** Training both tiny backbones takes about 5 s here; this is its ceiling on a busy 2-core machine. */
export const TRAIN_TIMEOUT_MS = 150_000;

/** A 48x48 grayscale image of class `c`: stripes, horizontal for even classes, with a class period. */
function drawSample(c: number, i: number): Promise<Buffer> {
  const pixels = Buffer.alloc(SIDE * SIDE);
  const period = 4 + c;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const along = c % 2 === 0 ? y : x;
      const band = Math.floor((along + i) / period) % 2;
      pixels[y * SIDE + x] = band ? 200 : 40 + ((x * y + i) % 30);
    }
  }
  return sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 1 } })
    .jpeg()
    .toBuffer();
}

async function drawDataset(root: string): Promise<void> {
  for (const [split, perClass] of [
    ['Training/Training', TRAIN_PER_CLASS],
    ['Testing/Testing', TEST_PER_CLASS],
  ] as const) {
    for (const [c, folder] of CLASS_FOLDERS.entries()) {
      const dir = path.join(root, split, folder);
      await mkdir(dir, { recursive: true });
      for (let i = 0; i < perClass; i++)
        await sharp(await drawSample(c, i)).toFile(path.join(dir, `${i}.jpg`));
    }
  }
}

export interface TrainedRegistry {
  /** The registry: `tiny` v1 (no metrics), `resnet-tiny` v1 and `densenet-tiny` v1 (trained). */
  dir: string;
  /** The study page of the two trained models (what STUDY_DIR points at). */
  studyDir: string;
  remove(): Promise<void>;
}

/**
 * Builds the registry (about 10 s). The caller serves it and calls `remove()` at the end.
 *
 * @example const registry = await trainedRegistry(); const service = await startService({ registry: registry.dir });
 */
export async function trainedRegistry(): Promise<TrainedRegistry> {
  const dir = await freshRegistry();
  const work = await mkdtemp(path.join(os.tmpdir(), 'fer-demo-training-'));
  const studyDir = await mkdtemp(path.join(os.tmpdir(), 'fer-demo-study-'));
  try {
    const data = path.join(work, 'data');
    await drawDataset(data);
    const args = ['run', '-s', 'train', '--', '--backbone', TRAINED_MODELS.join(','), '--data', data];
    args.push('--epochs', '4', '--input-size', '32', '--batch-size', '16', '--registry', dir);
    args.push('--runs-dir', path.join(work, 'runs'), '--comparison-dir', path.join(work, 'comparison'));
    args.push('--no-progress', '--log-level', 'warn');
    const page = ['run', '-s', 'study-page', '--', path.join(work, 'comparison'), '--out', studyDir];
    page.push('--registry', dir, '--shipped', dir);
    for (const [what, command] of [
      ['npm run train', args],
      ['npm run study-page', page],
    ] as const) {
      try {
        await run('npm', command, { cwd: REPO_ROOT, timeout: TRAIN_TIMEOUT_MS });
      } catch (error) {
        const stderr = (error as { stderr?: string }).stderr ?? '';
        throw new Error(`${what} failed: ${stderr || String(error)}`);
      }
    }
  } catch (error) {
    await Promise.all([removeDir(dir), removeDir(studyDir)]);
    throw error;
  } finally {
    await removeDir(work);
  }
  return {
    dir,
    studyDir,
    remove: async () => {
      await Promise.all([removeDir(dir), removeDir(studyDir)]);
    },
  };
}
