import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeGrayscale, defaultPreprocessSpec, toModelPixels } from '@fer/shared';
import { DatasetError } from '../../src/data/dataset-errors';
import { loadDataset } from '../../src/data/load-dataset';
import { cachePixels, imageAt, mirrorSet } from '../../src/data/pixel-cache';
import type { Sample } from '../../src/data/dataset-types';
import { writeClassFolders } from '../helpers/synthetic-dataset';

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-pixels-'));
  await writeClassFolders(path.join(tmp, 'train'), ['happy', 'sad'], 3, { seed: 1, format: 'png' }, 'train');
  await writeFile(path.join(tmp, 'train', 'sad', 'broken.jpg'), 'this is not a JPEG');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const spec = defaultPreprocessSpec(32);

describe('cachePixels', () => {
  it('holds exactly what the shared preprocessing makes of each file, and skips and counts unreadable ones', async () => {
    const dataset = await loadDataset(tmp);
    const samples = dataset.splits.train;
    expect(samples).toHaveLength(7);
    const progress: number[] = [];
    const { set, skipped } = await cachePixels(samples, spec, {
      onBadImage: 'skip',
      onProgress: (done) => progress.push(done),
    });
    expect(skipped).toEqual([
      { id: 'train/sad/broken.jpg', reason: expect.stringMatching(/could not be decoded/) },
    ]);
    expect(set.count).toBe(6);
    expect(set.ids).not.toContain('train/sad/broken.jpg');
    expect(progress.at(-1)).toBe(7);
    const first = samples[0];
    if (first.source.kind !== 'file') throw new Error('expected a file sample');
    const expected = await toModelPixels(await decodeGrayscale(await readFile(first.source.path)), spec);
    expect(imageAt(set, 0)).toEqual(expected);
    expect([...set.labels]).toEqual(samples.filter((s) => !s.id.includes('broken')).map((s) => s.label));
  });

  it('fails with the path of the unreadable image when told to', async () => {
    const dataset = await loadDataset(tmp);
    const error = await cachePixels(dataset.splits.train, spec, { onBadImage: 'fail' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as DatasetError).code).toBe('UNREADABLE_IMAGE');
    expect((error as DatasetError).message).toMatch(/broken\.jpg.*--on-bad-image skip/);
  });

  it('resizes in-memory CSV pixels through the same path', async () => {
    const data = Uint8Array.from({ length: 48 * 48 }, (_, i) => i % 251);
    const sample: Sample = { id: 'row-1', label: 2, source: { kind: 'pixels', width: 48, height: 48, data } };
    const { set } = await cachePixels([sample], spec, { onBadImage: 'fail' });
    expect(imageAt(set, 0)).toEqual(await toModelPixels({ width: 48, height: 48, data }, spec));
  });
});

describe('mirrorSet', () => {
  it('mirrors every row of every image and keeps labels and ids', () => {
    const set = {
      size: 3,
      count: 2,
      pixels: Uint8Array.from({ length: 18 }, (_, i) => i),
      labels: Int32Array.from([4, 1]),
      ids: ['a', 'b'],
    };
    const mirrored = mirrorSet(set);
    expect(Array.from(mirrored.pixels)).toEqual([
      2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9, 14, 13, 12, 17, 16, 15,
    ]);
    expect(mirrored.labels).toBe(set.labels);
    expect(mirrored.ids).toBe(set.ids);
    expect(Array.from(set.pixels.subarray(0, 3))).toEqual([0, 1, 2]); // the input is not changed
  });
});
