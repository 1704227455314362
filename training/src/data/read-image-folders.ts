/**
 * Reads a split stored as class folders (`<split>/<Class>/<image>`), the shape of the Kaggle,
 * msambare and plain class-folder layouts. Folder names go through the shared aliases
 * (Suprise -> Surprise, happy -> Happy); Disgust is counted and left out; any other folder
 * name is an error that names the folder. Pixels are not read here.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { resolveClassName, UnknownClassError } from '@fer/shared';
import { DatasetError } from './dataset-errors';
import type { Sample } from './dataset-types';

export interface SplitListing {
  samples: Sample[];
  /** Files left out on purpose, by the dataset's folder name (e.g. { Disgust: 436 }). */
  ignored: Record<string, number>;
}

/**
 * Lists the images of one split folder, sorted by their path relative to `root`.
 *
 * @example const { samples } = await readClassFolders('data/Training/Training', 'data');
 * @throws DatasetError EMPTY_DATASET when the split has no class folder, UNKNOWN_CLASS_FOLDER
 *         for a folder that is not an expression class.
 */
export async function readClassFolders(splitDir: string, root: string): Promise<SplitListing> {
  const entries = await readdir(splitDir, { withFileTypes: true });
  const classDirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  if (classDirs.length === 0) {
    throw new DatasetError(
      'EMPTY_DATASET',
      `${splitDir} has no class folders; expected one folder per expression (Angry, Fear, Happy, Neutral, Sad, Surprise)`,
    );
  }
  const samples: Sample[] = [];
  const ignored: Record<string, number> = {};
  for (const dirName of classDirs.sort()) {
    const classDir = path.join(splitDir, dirName);
    let resolution;
    try {
      resolution = resolveClassName(dirName);
    } catch (error) {
      if (!(error instanceof UnknownClassError)) throw error;
      throw new DatasetError(
        'UNKNOWN_CLASS_FOLDER',
        `Unknown class folder ${classDir}: ${error.message}. Rename or remove it.`,
        { cause: error },
      );
    }
    const files = (await readdir(classDir, { withFileTypes: true }))
      .filter((e) => e.isFile() && !e.name.startsWith('.'))
      .map((e) => e.name);
    if (resolution.kind === 'ignored') {
      ignored[dirName] = (ignored[dirName] ?? 0) + files.length;
      continue;
    }
    for (const file of files) {
      const full = path.join(classDir, file);
      samples.push({
        id: path.relative(root, full).split(path.sep).join('/'),
        label: resolution.index,
        source: { kind: 'file', path: full },
      });
    }
  }
  samples.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { samples, ignored };
}
