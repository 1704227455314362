/**
 * Byte-level mutations of image files for the fuzzer, as plain data (so fast-check can shrink a
 * failing case to the smallest mutation) and a pure `mutate(bytes, mutation)` that applies one:
 * bit flips, truncation, a scrambled header, a bogus EXIF block (with a nonsense orientation) or
 * ancillary chunk, a rewritten declared size (zero, one, huge), trailing garbage, two files glued
 * together, or nothing at all.
 */
import { crc32 } from 'node:zlib';
import fc from 'fast-check';

export type Mutation =
  | { kind: 'none' }
  | { kind: 'bit-flips'; flips: { at: number; bit: number }[] }
  | { kind: 'truncate'; keep: number }
  | { kind: 'scramble-header'; at: number; bytes: number[] }
  | { kind: 'bogus-exif'; orientation: number; garbage: number[]; lengthSkew: number }
  | { kind: 'declared-size'; width: number; height: number }
  | { kind: 'append'; bytes: number[] }
  | { kind: 'glue-copy' }
  | { kind: 'empty' };

/** Sizes the fuzzer writes into headers: degenerate, ordinary, at the format limits and beyond. */
const DECLARED_SIZES = [
  0,
  1,
  2,
  48,
  10_000,
  16_383,
  16_384,
  65_535,
  65_536,
  100_000,
  2 ** 31 - 1,
  2 ** 32 - 1,
];

const byte = fc.integer({ min: 0, max: 255 });
/** Positions are taken modulo the file length, so one mutation fits every base image. */
const position = fc.integer({ min: 0, max: 1_000_000 });

export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('bit-flips' as const),
      flips: fc.array(fc.record({ at: position, bit: fc.integer({ min: 0, max: 7 }) }), {
        minLength: 1,
        maxLength: 32,
      }),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: position }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant('scramble-header' as const),
      at: fc.integer({ min: 0, max: 63 }),
      bytes: fc.array(byte, { minLength: 1, maxLength: 16 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('bogus-exif' as const),
      orientation: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constant(65_535)),
      garbage: fc.array(byte, { maxLength: 64 }),
      lengthSkew: fc.integer({ min: -8, max: 8 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('declared-size' as const),
      width: fc.constantFrom(...DECLARED_SIZES),
      height: fc.constantFrom(...DECLARED_SIZES),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      bytes: fc.array(byte, { minLength: 1, maxLength: 256 }),
    }),
    weight: 1,
  },
  { arbitrary: fc.constant({ kind: 'glue-copy' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'empty' as const }), weight: 1 },
);

const isJpeg = (b: Buffer) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8;
const isPng = (b: Buffer) => b.length > 8 && b[0] === 0x89 && b.toString('latin1', 1, 4) === 'PNG';
const isWebp = (b: Buffer) =>
  b.length > 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP';

/** A minimal little-endian TIFF block (as EXIF carries) with one Orientation tag. */
function exifWithOrientation(orientation: number, garbage: number[]): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4); // first IFD right after the header
  tiff.writeUInt16LE(1, 8); // one entry
  tiff.writeUInt16LE(0x0112, 10); // Orientation
  tiff.writeUInt16LE(3, 12); // SHORT
  tiff.writeUInt32LE(1, 14);
  tiff.writeUInt16LE(orientation, 18);
  tiff.writeUInt32LE(0, 22); // no next IFD
  return Buffer.concat([tiff, Buffer.from(garbage)]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

function insertBogusExif(bytes: Buffer, m: Extract<Mutation, { kind: 'bogus-exif' }>): Buffer {
  const exif = exifWithOrientation(m.orientation, m.garbage);
  if (isJpeg(bytes)) {
    // An APP1 "Exif" segment right after SOI, its length field possibly off by lengthSkew.
    const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exif]);
    const header = Buffer.from([0xff, 0xe1, 0, 0]);
    header.writeUInt16BE(Math.max(0, Math.min(0xffff, payload.length + 2 + m.lengthSkew)), 2);
    return Buffer.concat([bytes.subarray(0, 2), header, payload, bytes.subarray(2)]);
  }
  if (isPng(bytes)) {
    // An eXIf chunk right after IHDR (signature 8 + IHDR 25 bytes).
    return Buffer.concat([bytes.subarray(0, 33), pngChunk('eXIf', exif), bytes.subarray(33)]);
  }
  if (isWebp(bytes)) {
    // An EXIF chunk appended inside the RIFF container, the RIFF size fixed up (or skewed).
    const chunk = Buffer.alloc(8);
    chunk.write('EXIF', 0, 'latin1');
    chunk.writeUInt32LE(exif.length, 4);
    const out = Buffer.concat([bytes, chunk, exif, Buffer.alloc(exif.length % 2)]);
    out.writeUInt32LE(Math.max(0, out.length - 8 + m.lengthSkew), 4);
    return out;
  }
  return Buffer.concat([bytes, exif]);
}

function rewriteDeclaredSize(bytes: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(bytes);
  if (isJpeg(out)) {
    // Baseline or progressive SOF: height and width are 16-bit big-endian after length and precision.
    for (const marker of [0xc0, 0xc1, 0xc2]) {
      const at = out.indexOf(Buffer.from([0xff, marker]), 2);
      if (at > 0 && at + 9 <= out.length) {
        out.writeUInt16BE(height & 0xffff, at + 5);
        out.writeUInt16BE(width & 0xffff, at + 7);
        return out;
      }
    }
    return out;
  }
  if (isPng(out) && out.length >= 33) {
    out.writeUInt32BE(width >>> 0, 16);
    out.writeUInt32BE(height >>> 0, 20);
    out.writeUInt32BE(crc32(out.subarray(12, 29)) >>> 0, 29); // a valid checksum: only the size lies
    return out;
  }
  if (isWebp(out) && out.length >= 30) {
    const fourcc = out.toString('latin1', 12, 16);
    if (fourcc === 'VP8X') {
      // Canvas size minus one, 24-bit little-endian.
      out.writeUIntLE(Math.max(0, Math.min(0xffffff, width - 1)), 24, 3);
      out.writeUIntLE(Math.max(0, Math.min(0xffffff, height - 1)), 27, 3);
    } else if (fourcc === 'VP8 ') {
      out.writeUInt16LE(width & 0x3fff, 26);
      out.writeUInt16LE(height & 0x3fff, 28);
    } else if (fourcc === 'VP8L') {
      const packed = ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14);
      out.writeUInt32LE(packed >>> 0, 21);
    }
  }
  return out;
}

/**
 * Applies `mutation` to a copy of `bytes`.
 *
 * @example mutate(png, { kind: 'truncate', keep: 100 }) // the first 100 bytes
 */
export function mutate(bytes: Buffer, mutation: Mutation): Buffer {
  switch (mutation.kind) {
    case 'none':
      return Buffer.from(bytes);
    case 'bit-flips': {
      const out = Buffer.from(bytes);
      for (const { at, bit } of mutation.flips) if (out.length > 0) out[at % out.length] ^= 1 << bit;
      return out;
    }
    case 'truncate':
      return Buffer.from(bytes.subarray(0, mutation.keep % Math.max(1, bytes.length)));
    case 'scramble-header': {
      const out = Buffer.from(bytes);
      mutation.bytes.forEach((b, i) => {
        if (mutation.at + i < out.length) out[mutation.at + i] = b;
      });
      return out;
    }
    case 'bogus-exif':
      return insertBogusExif(bytes, mutation);
    case 'declared-size':
      return rewriteDeclaredSize(bytes, mutation.width, mutation.height);
    case 'append':
      return Buffer.concat([bytes, Buffer.from(mutation.bytes)]);
    case 'glue-copy':
      return Buffer.concat([bytes, bytes]);
    case 'empty':
      return Buffer.alloc(0);
  }
}
