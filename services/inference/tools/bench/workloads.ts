/**
 * The request bodies of the benchmark: FER-sized face crops (48x48 grayscale JPEGs from the real
 * dataset when ../shared/datasets/fer6 is there, else drawn) sent with crop=none, and full photos
 * downscaled to 640 px (from ../shared/photos) sent with face detection.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { SHARED_DIR } from '../paths';

const FER_TESTING = path.join(SHARED_DIR, 'datasets/fer6/Testing/Testing');
const PHOTOS = path.join(SHARED_DIR, 'photos');
/** Distinct bodies per workload, cycled through by every connection. */
const BODIES = 32;
export const PHOTO_SIDE = 640;

async function exists(dir: string): Promise<boolean> {
  return readdir(dir).then(
    () => true,
    () => false,
  );
}

async function drawnCrop(seed: number): Promise<Buffer> {
  const side = 48;
  const pixels = Buffer.alloc(side * side);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 31 + seed * 97 + ((i / side) | 0) * 7) % 256;
  return sharp(pixels, { raw: { width: side, height: side, channels: 1 } })
    .jpeg()
    .toBuffer();
}

/** 48x48 face crops and where they came from. */
export async function faceCrops(): Promise<{ bodies: Buffer[]; source: string }> {
  if (await exists(FER_TESTING)) {
    const bodies: Buffer[] = [];
    const classes = (await readdir(FER_TESTING)).sort();
    for (let i = 0; bodies.length < BODIES; i++) {
      const dir = path.join(FER_TESTING, classes[i % classes.length]);
      const files = (await readdir(dir)).sort();
      bodies.push(await readFile(path.join(dir, files[Math.floor(i / classes.length)])));
    }
    return { bodies, source: FER_TESTING };
  }
  return {
    bodies: await Promise.all(Array.from({ length: BODIES }, (_, i) => drawnCrop(i))),
    source: 'drawn',
  };
}

/** Real photos with faces, re-encoded at 640 px on the longest side; null without the photos. */
export async function photos(): Promise<{ bodies: Buffer[]; source: string } | null> {
  if (!(await exists(PHOTOS))) return null;
  const names = (await readdir(PHOTOS))
    .filter((n) => /\.(jpe?g|png)$/i.test(n) && !/white|Landscape/.test(n))
    .sort();
  const bodies = await Promise.all(
    names.map(async (name) =>
      sharp(await readFile(path.join(PHOTOS, name)))
        .autoOrient()
        .resize(PHOTO_SIDE, PHOTO_SIDE, { fit: 'inside' })
        .jpeg({ quality: 90 })
        .toBuffer(),
    ),
  );
  return { bodies, source: PHOTOS };
}
