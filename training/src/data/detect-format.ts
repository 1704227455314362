/**
 * Recognizes which of the supported dataset layouts a `--data` path is, from its folder names
 * alone, so the user never has to say it:
 *
 * - kaggle:      <root>/Training/Training/<Class>/*, <root>/Testing/Testing/<Class>/*
 * - msambare:    <root>/train/<emotion>/*, <root>/test/<emotion>/*
 * - fer2013-csv: a CSV file (or a folder holding exactly one) with columns emotion,pixels,Usage
 * - class-folders: <root>/<Class>/* (one unnamed split; for evaluating a model on new data)
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { resolveClassName } from '@fer/shared';
import { DatasetError } from './dataset-errors';
import type { DatasetFormat } from './dataset-types';

/** The layout found and the folder (or file) of each split, keyed by the dataset's split names. */
export interface DetectedDataset {
  format: DatasetFormat;
  /** Split name -> folder of class folders, or the CSV file for fer2013-csv. */
  splitPaths: Record<string, string>;
  trainSplit: string;
  testSplit: string;
}

const LAYOUT_HINT =
  'expected the Kaggle layout (Training/Training/<Class>, Testing/Testing/<Class>), the msambare ' +
  'layout (train/<emotion>, test/<emotion>), a FER2013 CSV (emotion,pixels,Usage) or class folders';

async function isDirectory(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Visible entries of a folder, split into sub-folders and files. */
async function listVisible(dir: string): Promise<{ dirs: string[]; files: string[] }> {
  const entries = await readdir(dir, { withFileTypes: true });
  const visible = entries.filter((e) => !e.name.startsWith('.'));
  return {
    dirs: visible.filter((e) => e.isDirectory()).map((e) => e.name),
    files: visible.filter((e) => e.isFile()).map((e) => e.name),
  };
}

/** The child folder named `name` in any letter case, or null. */
function findChild(dirs: string[], name: string): string | null {
  return dirs.find((d) => d.toLowerCase() === name.toLowerCase()) ?? null;
}

async function nested(root: string, dirs: string[], name: string): Promise<string | null> {
  const outer = findChild(dirs, name);
  if (outer === null) return null;
  const inner = findChild((await listVisible(path.join(root, outer))).dirs, name);
  return inner === null ? null : path.join(root, outer, inner);
}

function isClassName(name: string): boolean {
  try {
    resolveClassName(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Detects the layout of a dataset folder or CSV file.
 *
 * @example await detectDatasetFormat('../shared/datasets/fer6') // { format: 'kaggle', ... }
 * @throws DatasetError DATASET_NOT_FOUND, EMPTY_DATASET or UNKNOWN_DATASET_FORMAT.
 */
export async function detectDatasetFormat(dataPath: string): Promise<DetectedDataset> {
  const root = path.resolve(dataPath);
  let info;
  try {
    info = await stat(root);
  } catch {
    throw new DatasetError('DATASET_NOT_FOUND', `No dataset at ${root}: the path does not exist`);
  }
  const csv = (file: string): DetectedDataset => ({
    format: 'fer2013-csv',
    splitPaths: { Training: file, PublicTest: file, PrivateTest: file },
    trainSplit: 'Training',
    testSplit: 'PublicTest',
  });
  if (info.isFile()) {
    if (root.toLowerCase().endsWith('.csv')) return csv(root);
    throw new DatasetError('UNKNOWN_DATASET_FORMAT', `${root} is a file but not a .csv; ${LAYOUT_HINT}`);
  }

  const { dirs, files } = await listVisible(root);
  if (dirs.length === 0 && files.length === 0) {
    throw new DatasetError('EMPTY_DATASET', `The dataset folder ${root} is empty; ${LAYOUT_HINT}`);
  }

  const training = await nested(root, dirs, 'Training');
  const testing = await nested(root, dirs, 'Testing');
  if (training !== null || testing !== null) {
    const splitPaths: Record<string, string> = {};
    if (training !== null) splitPaths.Training = training;
    if (testing !== null) splitPaths.Testing = testing;
    return { format: 'kaggle', splitPaths, trainSplit: 'Training', testSplit: 'Testing' };
  }

  const train = findChild(dirs, 'train');
  const test = findChild(dirs, 'test');
  if (train !== null || test !== null) {
    const splitPaths: Record<string, string> = {};
    if (train !== null && (await isDirectory(path.join(root, train))))
      splitPaths.train = path.join(root, train);
    if (test !== null && (await isDirectory(path.join(root, test)))) splitPaths.test = path.join(root, test);
    return { format: 'msambare', splitPaths, trainSplit: 'train', testSplit: 'test' };
  }

  const csvFiles = files.filter((f) => f.toLowerCase().endsWith('.csv'));
  if (csvFiles.length === 1 && dirs.length === 0) return csv(path.join(root, csvFiles[0]));

  if (dirs.length > 0 && dirs.some(isClassName)) {
    return { format: 'class-folders', splitPaths: { all: root }, trainSplit: 'all', testSplit: 'all' };
  }
  throw new DatasetError(
    'UNKNOWN_DATASET_FORMAT',
    `Cannot tell the layout of ${root} (found ${[...dirs.map((d) => `${d}/`), ...files].slice(0, 8).join(', ')}); ${LAYOUT_HINT}`,
  );
}
