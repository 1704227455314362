/**
 * The commit a model was trained from, recorded in its metadata; "-dirty" marks a checkout with
 * uncommitted changes to tracked files, so the revision alone does not reproduce it.
 */
import { execFileSync } from 'node:child_process';

/**
 * @example codeRevision(__dirname) // '3f2a9c...e1' or '3f2a9c...e1-dirty'; null outside git
 */
export function codeRevision(cwd: string): string | null {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  try {
    const head = git('rev-parse', 'HEAD');
    let dirty = false;
    try {
      dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    } catch {
      // status can fail on a read-only checkout; the revision is still right
    }
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}
