import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLASSES } from '@fer/shared';
import { DatasetError } from '../../src/data/dataset-errors';
import { detectDatasetFormat } from '../../src/data/detect-format';
import { datasetFingerprint } from '../../src/data/fingerprint';
import {
  assertEveryClassPresent,
  countByClass,
  datasetCounts,
  formatCounts,
  loadDataset,
  requireSplit,
} from '../../src/data/load-dataset';

let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-datasets-'));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Creates `<root>/<rel>/<name>` files; readers list names and never decode, so contents are arbitrary. */
async function files(root: string, tree: Record<string, number>): Promise<void> {
  for (const [dir, n] of Object.entries(tree)) {
    await mkdir(path.join(root, dir), { recursive: true });
    for (let i = 0; i < n; i++) await writeFile(path.join(root, dir, `img_${i}.jpg`), `image ${dir} ${i}`);
  }
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatasetError);
  expect((error as DatasetError).code).toBe(code);
  expect((error as DatasetError).message).toMatch(message);
}

describe('the Kaggle layout', () => {
  it('is detected, read with the Suprise alias, sorted and counted per split and class', async () => {
    await files(tmp, {
      'Training/Training/Angry': 3,
      'Training/Training/Fear': 1,
      'Training/Training/Happy': 2,
      'Training/Training/Neutral': 1,
      'Training/Training/Sad': 1,
      'Training/Training/Suprise': 2,
      'Testing/Testing/Happy': 1,
      'Testing/Testing/Suprise': 1,
    });
    await writeFile(path.join(tmp, 'Training/Training/Angry/.DS_Store'), 'x');
    const dataset = await loadDataset(tmp);
    expect(dataset.format).toBe('kaggle');
    expect(dataset.trainSplit).toBe('Training');
    expect(dataset.testSplit).toBe('Testing');
    expect(datasetCounts(dataset)).toEqual({
      Training: { Angry: 3, Fear: 1, Happy: 2, Neutral: 1, Sad: 1, Surprise: 2 },
      Testing: { Angry: 0, Fear: 0, Happy: 1, Neutral: 0, Sad: 0, Surprise: 1 },
    });
    const training = dataset.splits.Training;
    expect(training[0].id).toBe('Training/Training/Angry/img_0.jpg');
    expect(training.map((s) => s.id)).toEqual([...training.map((s) => s.id)].sort());
    const surprise = training.filter((s) => s.id.includes('Suprise'));
    expect(surprise.every((s) => s.label === CLASSES.indexOf('Surprise'))).toBe(true);
    expect(formatCounts(datasetCounts(dataset))).toMatch(/Surprise\s+2\s+1/);
  });
});

describe('the msambare layout', () => {
  it('maps lower-case emotion folders and counts the Disgust images it leaves out', async () => {
    const emotions = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'];
    await files(
      tmp,
      Object.fromEntries(
        emotions.flatMap((e) => [
          [`train/${e}`, 2],
          [`test/${e}`, 1],
        ]),
      ),
    );
    const dataset = await loadDataset(tmp);
    expect(dataset.format).toBe('msambare');
    expect(countByClass(requireSplit(dataset, 'train'))).toEqual(
      Object.fromEntries(CLASSES.map((c) => [c, 2])),
    );
    expect(dataset.ignored).toEqual({ train: { disgust: 2 }, test: { disgust: 1 } });
  });
});

describe('the FER2013 CSV', () => {
  const pixels = (v: number) => new Array(48 * 48).fill(v).join(' ');

  it('is read by Usage, with Disgust dropped and the pixels kept in memory', async () => {
    const rows = [
      'emotion,pixels,Usage',
      `0,${pixels(10)},Training`,
      `1,${pixels(20)},Training`,
      `3,${pixels(30)},Training`,
      `6,${pixels(40)},PublicTest`,
      `5,${pixels(50)},PrivateTest`,
    ];
    await writeFile(path.join(tmp, 'fer2013.csv'), `${rows.join('\r\n')}\r\n`);
    for (const target of [tmp, path.join(tmp, 'fer2013.csv')]) {
      const dataset = await loadDataset(target);
      expect(dataset.format).toBe('fer2013-csv');
      expect(dataset.trainSplit).toBe('Training');
      expect(dataset.testSplit).toBe('PublicTest');
      expect(dataset.splits.Training.map((s) => s.label)).toEqual([
        CLASSES.indexOf('Angry'),
        CLASSES.indexOf('Happy'),
      ]);
      expect(dataset.splits.PublicTest[0].label).toBe(CLASSES.indexOf('Neutral'));
      expect(dataset.splits.PrivateTest[0].label).toBe(CLASSES.indexOf('Surprise'));
      expect(dataset.ignored).toEqual({ Training: { Disgust: 1 } });
      const source = dataset.splits.Training[1].source;
      expect(source.kind).toBe('pixels');
      if (source.kind === 'pixels') {
        expect([source.width, source.height]).toEqual([48, 48]);
        expect(source.data.every((v) => v === 30)).toBe(true);
      }
    }
  });

  it('names the line of a malformed row', async () => {
    await writeFile(
      path.join(tmp, 'x.csv'),
      `emotion,pixels,Usage\n0,${pixels(1)},Training\n9,${pixels(1)},Training\n`,
    );
    await rejects(loadDataset(path.join(tmp, 'x.csv')), 'INVALID_CSV', /line 3: emotion "9"/);
    await writeFile(path.join(tmp, 'y.csv'), `emotion,pixels,Usage\n0,1 2 3,Training\n`);
    await rejects(
      loadDataset(path.join(tmp, 'y.csv')),
      'INVALID_CSV',
      /line 2: the pixels column is not a square/,
    );
    await writeFile(path.join(tmp, 'z.csv'), `label,image\n0,1\n`);
    await rejects(loadDataset(path.join(tmp, 'z.csv')), 'INVALID_CSV', /header/);
  });
});

describe('plain class folders', () => {
  it('are one split named "all" (for evaluating on new data)', async () => {
    await files(tmp, { happy: 2, Sad: 1 });
    const dataset = await loadDataset(tmp);
    expect(dataset.format).toBe('class-folders');
    expect(requireSplit(dataset, 'all')).toHaveLength(3);
  });
});

describe('clear errors', () => {
  it('for a path that does not exist', async () => {
    await rejects(loadDataset(path.join(tmp, 'nope')), 'DATASET_NOT_FOUND', /does not exist/);
  });

  it('for an empty folder', async () => {
    await rejects(loadDataset(tmp), 'EMPTY_DATASET', /is empty.*expected the Kaggle layout/);
  });

  it('for a split without class folders', async () => {
    await mkdir(path.join(tmp, 'Training/Training'), { recursive: true });
    await rejects(loadDataset(tmp), 'EMPTY_DATASET', /Training[/\\]Training has no class folders/);
  });

  it('for an unknown class folder, naming it', async () => {
    await files(tmp, { 'Training/Training/Happy': 1, 'Training/Training/Contempt': 1 });
    await rejects(loadDataset(tmp), 'UNKNOWN_CLASS_FOLDER', /Contempt.*Rename or remove it/);
  });

  it('for a folder of another layout', async () => {
    await files(tmp, { photos: 1, misc: 1 });
    await rejects(detectDatasetFormat(tmp), 'UNKNOWN_DATASET_FORMAT', /photos\/.*expected/);
  });

  it('for a missing split and a class with no training images', async () => {
    await files(tmp, { 'Training/Training/Happy': 2, 'Training/Training/Sad': 1 });
    const dataset = await loadDataset(tmp);
    expect(() => requireSplit(dataset, dataset.testSplit)).toThrow(/no "Testing" split \(it has: Training\)/);
    expect(() => assertEveryClassPresent(dataset.splits.Training, 'Training', tmp)).toThrow(
      /no images of Angry, Fear, Neutral, Surprise/,
    );
  });
});

describe('datasetFingerprint', () => {
  it('is stable, and changes when a file, a label or the layout changes', async () => {
    await files(tmp, { 'train/happy': 2, 'train/sad': 2 });
    const before = await datasetFingerprint(await loadDataset(tmp));
    expect(await datasetFingerprint(await loadDataset(tmp))).toBe(before);
    await writeFile(path.join(tmp, 'train/happy/img_0.jpg'), 'a different, longer content');
    const edited = await datasetFingerprint(await loadDataset(tmp));
    expect(edited).not.toBe(before);
    await mkdir(path.join(tmp, 'train/angry'));
    await writeFile(path.join(tmp, 'train/angry/img_9.jpg'), 'x');
    expect(await datasetFingerprint(await loadDataset(tmp))).not.toBe(edited);
    expect(before).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
