/**
 * The registry a training job publishes into unless told otherwise. Its own module: the train,
 * ensemble and calibrate option parsers and the evaluate CLI all name it.
 */
import path from 'node:path';

/**
 * Where `npm run train` and `npm run ensemble` publish without `--registry`: a scratch registry
 * beside the run folders (git-ignored), not `models/`. Publishing into the registry the service
 * serves is a deployment (it hot-loads the new version as its name's default), so it is asked for
 * by name: `--registry models`.
 *
 * @example scratchRegistry('/repo') // '/repo/artifacts/registry'
 */
export function scratchRegistry(repoRoot: string): string {
  return path.join(repoRoot, 'artifacts', 'registry');
}
