/**
 * Draws a small FER-style dataset whose classes differ by shape, so a tiny network can learn it
 * in seconds: 48x48 grayscale images with a class-specific pattern at a random position and
 * size, on a noisy background. Written with sharp in the Kaggle, msambare or CSV layout.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { PixelSet } from '../../src/data/pixel-cache';
import { Rng } from '../../src/data/rng';

export const SIDE = 48;

/** Folder names as the Kaggle dataset spells them (note "Suprise"). */
export const KAGGLE_FOLDERS = ['Angry', 'Fear', 'Happy', 'Neutral', 'Sad', 'Suprise'] as const;

/** The pattern of class `label` (CLASSES order), drawn with jitter from `rng`. */
export function drawPattern(label: number, rng: Rng): Uint8Array {
  const img = new Uint8Array(SIDE * SIDE);
  const cx = 24 + rng.uniform(-5, 5);
  const cy = 24 + rng.uniform(-5, 5);
  const r = rng.uniform(10, 15);
  const bg = rng.uniform(60, 110);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const dx = x - cx;
      const dy = y - cy;
      const d = Math.hypot(dx, dy);
      let on = false;
      switch (label) {
        case 0: // Angry: horizontal stripes
          on = Math.abs(dx) < r && Math.floor((dy + 40) / 4) % 2 === 0;
          break;
        case 1: // Fear: vertical stripes
          on = Math.abs(dy) < r && Math.floor((dx + 40) / 4) % 2 === 0;
          break;
        case 2: // Happy: filled disc
          on = d < r;
          break;
        case 3: // Neutral: nothing but noise
          on = false;
          break;
        case 4: // Sad: a thick X
          on = Math.abs(dx) < r && (Math.abs(dx - dy) < 3 || Math.abs(dx + dy) < 3);
          break;
        default: // Surprise: a ring
          on = Math.abs(d - r) < 2.5;
      }
      const noise = rng.uniform(-25, 25);
      const v = (on ? 230 : bg) + noise;
      img[y * SIDE + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return img;
}

function encode(pixels: Uint8Array, format: 'jpeg' | 'png'): Promise<Buffer> {
  const image = sharp(Buffer.from(pixels), { raw: { width: SIDE, height: SIDE, channels: 1 } });
  return format === 'jpeg' ? image.jpeg({ quality: 95 }).toBuffer() : image.png().toBuffer();
}

export interface SyntheticOptions {
  /** Images per class in the training and test splits. */
  train: number;
  test: number;
  seed: number;
  format?: 'jpeg' | 'png';
}

/** Writes the Kaggle layout under `root`: Training/Training/<Class>, Testing/Testing/<Class>. */
export async function writeKaggleDataset(root: string, options: SyntheticOptions): Promise<void> {
  await writeClassFolders(
    path.join(root, 'Training', 'Training'),
    KAGGLE_FOLDERS,
    options.train,
    options,
    'train',
  );
  await writeClassFolders(
    path.join(root, 'Testing', 'Testing'),
    KAGGLE_FOLDERS,
    options.test,
    options,
    'test',
  );
}

/** Writes class folders (`<dir>/<folder>/<n>.jpg`) with `perClass` images each. */
export async function writeClassFolders(
  dir: string,
  folders: readonly string[],
  perClass: number,
  options: Pick<SyntheticOptions, 'seed' | 'format'>,
  stream: string,
): Promise<void> {
  const format = options.format ?? 'jpeg';
  await Promise.all(
    folders.map(async (folder, label) => {
      const classDir = path.join(dir, folder);
      await mkdir(classDir, { recursive: true });
      const rng = Rng.derive(options.seed, stream, label);
      for (let i = 0; i < perClass; i++) {
        const name = `${stream}_${String(i).padStart(4, '0')}.${format === 'jpeg' ? 'jpg' : 'png'}`;
        await writeFile(path.join(classDir, name), await encode(drawPattern(label % 6, rng), format));
      }
    }),
  );
}

/**
 * `count` images of seeded noise at `size` px, labels cycling through the classes: pixels for
 * code that needs a decoded set but not a dataset on disk.
 */
export function noisePixelSet(count: number, size: number, seed = 7): PixelSet {
  const rng = Rng.derive(seed, 'noise-pixels');
  return {
    size,
    count,
    pixels: Uint8Array.from({ length: count * size * size }, () => rng.int(256)),
    labels: Int32Array.from({ length: count }, (_, i) => i % KAGGLE_FOLDERS.length),
    ids: Array.from({ length: count }, (_, i) => `noise-${i}`),
  };
}
