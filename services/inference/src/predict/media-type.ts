/**
 * What the uploaded bytes are, judged from their first bytes rather than the Content-Type header
 * or the file name. Supported formats pass on to the decoder; formats we recognise but do not serve
 * (GIF, SVG, PDF, TIFF, HEIF, ...) are refused with 415 before any decoder sees them.
 */
import { SUPPORTED_FORMATS, type SupportedFormat } from '@fer/shared';

export type Sniffed =
  | { kind: 'supported'; format: SupportedFormat }
  | { kind: 'unsupported'; name: string }
  | { kind: 'unknown' };

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0): boolean =>
  bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/** ISO-BMFF brands (bytes 8..12 after "ftyp") of image formats sharp may read but we refuse. */
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1', 'avif', 'avis']);

/** Text-based formats: look past a BOM and leading white space. */
function textStart(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 512))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return head.slice(0, 256).toLowerCase();
}

/**
 * Identifies the image format from magic bytes.
 *
 * @example sniffMediaType(Buffer.from('GIF89a...')) // { kind: 'unsupported', name: 'image/gif' }
 */
export function sniffMediaType(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'supported', format: 'jpeg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { kind: 'supported', format: 'png' };
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) {
    return { kind: 'supported', format: 'webp' };
  }
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) {
    return { kind: 'unsupported', name: 'image/gif' };
  }
  if (startsWith(bytes, ascii('%PDF-'))) return { kind: 'unsupported', name: 'application/pdf' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { kind: 'unsupported', name: 'image/tiff' };
  }
  if (startsWith(bytes, ascii('BM'))) return { kind: 'unsupported', name: 'image/bmp' };
  if (startsWith(bytes, ascii('8BPS'))) return { kind: 'unsupported', name: 'image/vnd.adobe.photoshop' };
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return { kind: 'unsupported', name: 'image/x-icon' };
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) {
    return { kind: 'unsupported', name: 'image/jxl' };
  }
  if (startsWith(bytes, ascii('ftyp'), 4)) {
    const brand = Buffer.from(bytes.subarray(8, 12)).toString('latin1');
    if (HEIF_BRANDS.has(brand))
      return { kind: 'unsupported', name: brand.startsWith('avi') ? 'image/avif' : 'image/heif' };
  }
  const text = textStart(bytes);
  if (
    text.startsWith('<svg') ||
    ((text.startsWith('<?xml') || text.startsWith('<!doctype')) && text.includes('<svg'))
  ) {
    return { kind: 'unsupported', name: 'image/svg+xml' };
  }
  return { kind: 'unknown' };
}

/** Media types of the formats we serve, for messages and the raw-body content-type parser. */
export const SUPPORTED_MEDIA_TYPES: readonly string[] = SUPPORTED_FORMATS.map((f) => `image/${f}`);
