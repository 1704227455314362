import { Readable } from 'node:stream';
import { imageBytes, imageContentType } from '../src/image-body';

const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256);

describe('imageBytes', () => {
  it('reads a Buffer, an ArrayBuffer, a Blob, a web stream and a Node stream to the same bytes', async () => {
    const chunks = [bytes.subarray(0, 30_000), bytes.subarray(30_000, 70_001), bytes.subarray(70_001)];
    const inputs = [
      Buffer.from(bytes),
      bytes.buffer.slice(0),
      new Blob([bytes]),
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
          controller.close();
        },
      }),
      Readable.from(chunks.map((c) => Buffer.from(c))),
    ];
    for (const input of inputs) expect(Buffer.from(await imageBytes(input))).toEqual(Buffer.from(bytes));
  });

  it('refuses what is not bytes', async () => {
    await expect(imageBytes('photo.jpg' as never)).rejects.toThrow(TypeError);
  });
});

describe('imageContentType', () => {
  it('names PNG and WebP from their signatures, and sends anything else as image/jpeg', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const webp = new TextEncoder().encode('RIFF\u0000\u0000\u0000\u0000WEBPVP8 ');
    expect(imageContentType(png)).toBe('image/png');
    expect(imageContentType(webp)).toBe('image/webp');
    expect(imageContentType(Uint8Array.from([0xff, 0xd8, 0xff]))).toBe('image/jpeg');
    expect(imageContentType(new TextEncoder().encode('GIF89a'))).toBe('image/jpeg');
  });
});
