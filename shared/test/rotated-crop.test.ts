/**
 * rotatedCrop: unturned at whole-pixel positions it is the plain crop (edge pixels repeated outside
 * the image); a quarter turn transposes; a region decoded elsewhere (origin) samples the same.
 */
import { cropWithEdgePadding, rotatedCrop, type GrayImage } from '../src';

function image(width: number, height: number): GrayImage {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  return { width, height, data };
}

describe('rotatedCrop', () => {
  test('with angle 0 at whole pixels it equals cropWithEdgePadding, edges repeated', () => {
    const img = image(12, 9);
    for (const [left, top] of [
      [2, 3],
      [-3, -2],
      [8, 6],
    ]) {
      const crop = rotatedCrop(img, { cx: left + 3, cy: top + 2.5, width: 6, height: 5, angle: 0 });
      expect(crop).toEqual(cropWithEdgePadding(img, { left, top, width: 6, height: 5 }));
    }
  });

  test('a quarter turn about the centre of a square crop rotates its pixels', () => {
    const img = image(5, 5);
    const turned = rotatedCrop(img, { cx: 2.5, cy: 2.5, width: 5, height: 5, angle: Math.PI / 2 });
    // Output (u, v) samples the image at (cx - dy, cy + dx): the image turned a quarter counter-clockwise.
    for (let v = 0; v < 5; v++) {
      for (let u = 0; u < 5; u++) expect(turned.data[v * 5 + u]).toBe(img.data[u * 5 + (4 - v)]);
    }
  });

  test('a region with its origin samples like the whole image', () => {
    const img = image(30, 20);
    const rect = { cx: 14.2, cy: 9.7, width: 8, height: 8, angle: 0.3 };
    const origin = { left: 6, top: 3 };
    const region: GrayImage = { width: 18, height: 14, data: new Uint8Array(18 * 14) };
    for (let y = 0; y < 14; y++) {
      for (let x = 0; x < 18; x++) region.data[y * 18 + x] = img.data[(y + 3) * 30 + x + 6];
    }
    expect(rotatedCrop(region, rect, origin)).toEqual(rotatedCrop(img, rect));
  });
});
