/**
 * Reads the original FER2013 CSV (`emotion,pixels,Usage`: 35,887 rows of 48x48 pixels as
 * space-separated numbers; Usage is Training, PublicTest or PrivateTest). Rows are streamed so
 * the 300 MB file is never held as one string; Disgust rows are counted and dropped.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { resolveFer2013Code } from '@fer/shared';
import { DatasetError } from './dataset-errors';
import type { Sample } from './dataset-types';

export interface CsvListing {
  /** Samples per Usage value, in file order. */
  splits: Record<string, Sample[]>;
  ignored: Record<string, Record<string, number>>;
}

/** Parses "0 12 255 ..." into bytes; returns null when a value is not an integer in 0..255. */
function parsePixels(text: string): Uint8Array | null {
  const parts = text.trim().split(/\s+/);
  const out = new Uint8Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const v = Number(parts[i]);
    if (!Number.isInteger(v) || v < 0 || v > 255) return null;
    out[i] = v;
  }
  return out;
}

/**
 * Reads every row of a FER2013 CSV into in-memory samples, grouped by Usage.
 *
 * @example const { splits } = await readFer2013Csv('fer2013.csv'); splits.PublicTest.length // 3589
 * @throws DatasetError INVALID_CSV naming the line for a missing column, a bad emotion code or
 *         a pixel row that is not a square image.
 */
export async function readFer2013Csv(file: string): Promise<CsvListing> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  const splits: Record<string, Sample[]> = {};
  const ignored: Record<string, Record<string, number>> = {};
  let columns: { emotion: number; pixels: number; usage: number } | null = null;
  let lineNo = 0;
  const invalid = (detail: string) => new DatasetError('INVALID_CSV', `${file}, line ${lineNo}: ${detail}`);
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    const cells = line.split(',');
    if (columns === null) {
      const names = cells.map((c) => c.trim().toLowerCase());
      const emotion = names.indexOf('emotion');
      const pixels = names.indexOf('pixels');
      const usage = names.indexOf('usage');
      if (emotion < 0 || pixels < 0 || usage < 0) {
        throw invalid(`expected the header "emotion,pixels,Usage", got "${line}"`);
      }
      columns = { emotion, pixels, usage };
      continue;
    }
    const usage = cells[columns.usage]?.trim();
    if (!usage) throw invalid('the Usage column is empty');
    const code = Number(cells[columns.emotion]);
    let resolution;
    try {
      resolution = resolveFer2013Code(code);
    } catch {
      throw invalid(`emotion "${cells[columns.emotion]}" is not a FER2013 code (0..6)`);
    }
    if (resolution.kind === 'ignored') {
      const byLabel = (ignored[usage] ??= {});
      byLabel[resolution.name] = (byLabel[resolution.name] ?? 0) + 1;
      continue;
    }
    const data = parsePixels(cells[columns.pixels] ?? '');
    const side = data === null ? 0 : Math.round(Math.sqrt(data.length));
    if (data === null || side < 1 || side * side !== data.length) {
      throw invalid('the pixels column is not a square image of values 0..255');
    }
    (splits[usage] ??= []).push({
      id: `row-${String(lineNo).padStart(6, '0')}`,
      label: resolution.index,
      source: { kind: 'pixels', width: side, height: side, data },
    });
  }
  if (columns === null) throw new DatasetError('EMPTY_DATASET', `${file} is empty`);
  return { splits, ignored };
}
