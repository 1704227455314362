/**
 * Images the tests send, drawn at run time (nothing binary is committed): a face-sized grayscale
 * picture, and the malformed inputs of the bad-input tests.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT } from './test-models';

export { pngHeaderClaiming } from '../../tools/png-header';

/** The shared real photos (never copied into the repo); tests skip when the folder is absent. */
export const PHOTOS_DIR = path.resolve(REPO_ROOT, '../shared/photos');
export const HAVE_PHOTOS = existsSync(path.join(PHOTOS_DIR, 'SOURCES.txt'));

/**
 * A 48x48 grayscale picture with a light oval "face" and dark "eyes" and "mouth", like a FER crop.
 * `seed` shifts the features so different seeds give different model inputs.
 */
export async function faceCrop(format: 'jpeg' | 'png' | 'webp' = 'jpeg', seed = 0): Promise<Buffer> {
  const side = 48;
  const pixels = Buffer.alloc(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const dx = (x - 24) / 18;
      const dy = (y - 24) / 22;
      let v = dx * dx + dy * dy < 1 ? 190 : 60;
      const eyeY = 18 + (seed % 3);
      if ((Math.abs(x - 16) < 3 || Math.abs(x - 32) < 3) && Math.abs(y - eyeY) < 2) v = 30;
      if (Math.abs(x - 24) < 7 + (seed % 4) && Math.abs(y - 34) < 2) v = 40;
      pixels[y * side + x] = v;
    }
  }
  return sharp(pixels, { raw: { width: side, height: side, channels: 1 } })
    .toFormat(format)
    .toBuffer();
}

export const SVG_IMAGE = Buffer.from(
  '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle cx="32" cy="32" r="20"/></svg>',
);

/** A two-frame animated GIF made by sharp. */
export async function animatedGif(): Promise<Buffer> {
  const frame = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  return sharp([frame, frame], { join: { animated: true } })
    .gif()
    .toBuffer();
}

export const PDF_BYTES = Buffer.from(
  '%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n',
);
