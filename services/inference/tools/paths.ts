/**
 * Where the service's tools find the repository, the shared data beside it (`../shared`: photos,
 * the dataset) and where they write their results, so no tool counts `..` on its own.
 */
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
/** The shared folder beside the checkout: real photos, their boxes, the fer6 dataset. */
export const SHARED_DIR = path.resolve(REPO_ROOT, '../shared');
/** Every benchmark's JSON and Markdown results (git-ignored). */
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench-results');
