import sharp from 'sharp';
import { sniffMediaType } from '../../src/predict/media-type';
import { animatedGif, PDF_BYTES, SVG_IMAGE } from '../helpers/images';

describe('sniffMediaType', () => {
  test.each(['jpeg', 'png', 'webp'] as const)('recognises %s from its bytes', async (format) => {
    const bytes = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#777' } })
      .toFormat(format)
      .toBuffer();
    expect(sniffMediaType(bytes)).toEqual({ kind: 'supported', format });
  });

  test('refuses formats we recognise but do not serve', async () => {
    expect(sniffMediaType(await animatedGif())).toEqual({ kind: 'unsupported', name: 'image/gif' });
    expect(sniffMediaType(SVG_IMAGE)).toEqual({ kind: 'unsupported', name: 'image/svg+xml' });
    expect(sniffMediaType(Buffer.from('  <svg xmlns="http://www.w3.org/2000/svg"/>'))).toEqual({
      kind: 'unsupported',
      name: 'image/svg+xml',
    });
    expect(sniffMediaType(PDF_BYTES)).toEqual({ kind: 'unsupported', name: 'application/pdf' });
    const tiff = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#777' } })
      .tiff()
      .toBuffer();
    expect(sniffMediaType(tiff)).toEqual({ kind: 'unsupported', name: 'image/tiff' });
    const heif = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic'), Buffer.alloc(16)]);
    expect(sniffMediaType(heif)).toEqual({ kind: 'unsupported', name: 'image/heif' });
  });

  test('leaves unknown bytes to the decoder', () => {
    expect(sniffMediaType(Buffer.from('hello world'))).toEqual({ kind: 'unknown' });
    expect(sniffMediaType(Buffer.alloc(0))).toEqual({ kind: 'unknown' });
  });
});
