/**
 * Turning what an app holds (a Buffer, a Blob or File, a web or Node stream) into the bytes of a
 * POST /predict body. Streams are read to the end first: a retry has to send the image again, and
 * the service refuses bodies over its MAX_BODY_BYTES (10 MB by default) anyway.
 */

/** An image as apps hold one. Node's Readable is an AsyncIterable of Buffers. */
export type ImageInput =
  Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

const isAsyncIterable = (value: unknown): value is AsyncIterable<Uint8Array> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

async function concat(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    const part = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    parts.push(part);
    length += part.length;
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

async function* readWebStream(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * The bytes of `image`.
 *
 * @example await imageBytes(fs.createReadStream('group.jpg')) // Uint8Array of the file
 */
export async function imageBytes(image: ImageInput): Promise<Uint8Array> {
  if (image instanceof Uint8Array) return image;
  if (image instanceof ArrayBuffer) return new Uint8Array(image);
  if (typeof Blob !== 'undefined' && image instanceof Blob) return new Uint8Array(await image.arrayBuffer());
  if (typeof ReadableStream !== 'undefined' && image instanceof ReadableStream)
    return concat(readWebStream(image));
  if (isAsyncIterable(image)) return concat(image);
  throw new TypeError('predict() takes a Buffer/Uint8Array, an ArrayBuffer, a Blob or a stream of bytes');
}

/**
 * The Content-Type for a raw image body, from the bytes: the service accepts image/jpeg, image/png
 * and image/webp and judges the format from the bytes itself; anything else goes as image/jpeg so
 * that its answer names what the bytes are (415 UNSUPPORTED_MEDIA_TYPE, 422 UNDECODABLE_IMAGE).
 *
 * @example imageContentType(new Uint8Array([0x89, 0x50, 0x4e, 0x47])) // 'image/png'
 */
export function imageContentType(bytes: Uint8Array): 'image/jpeg' | 'image/png' | 'image/webp' {
  const ascii = (start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));
  if (bytes[0] === 0x89 && ascii(1, 4) === 'PNG') return 'image/png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  return 'image/jpeg';
}
