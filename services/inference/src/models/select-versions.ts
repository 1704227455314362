/**
 * Which versions of a model the service keeps loaded, and which one a request gets: pure
 * functions of the registry listing and the load states, so the model manager only does I/O.
 */

/**
 * The version numbers to keep loaded: the newest `keep` valid versions, or all when `keep` is 0.
 *
 * @example versionsToLoad([1, 2, 5, 7], 2) // [5, 7]
 */
export function versionsToLoad(validVersions: readonly number[], keep: number): number[] {
  const sorted = [...validVersions].sort((a, b) => a - b);
  return keep > 0 ? sorted.slice(-keep) : sorted;
}

export type VersionStatus = 'loading' | 'ready' | 'failed' | 'not_loaded';

/** What picking a version for a request can end in. */
export type Pick =
  | { kind: 'ready'; version: number }
  | { kind: 'loading' }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'absent' };

/**
 * The version a request for `version` (or the default when undefined) gets, given each version's
 * status: the pinned one when it is ready, else the highest ready version.
 *
 * @example pickVersion(new Map([[1, 'ready'], [2, 'loading']])) // { kind: 'ready', version: 1 }
 */
export function pickVersion(statuses: ReadonlyMap<number, VersionStatus>, version?: number): Pick {
  if (version !== undefined) {
    const status = statuses.get(version);
    switch (status) {
      case undefined:
        return { kind: 'absent' };
      case 'ready':
        return { kind: 'ready', version };
      case 'loading':
        return { kind: 'loading' };
      case 'failed':
        return { kind: 'unavailable', reason: 'failed to load (see GET /models)' };
      case 'not_loaded':
        return { kind: 'unavailable', reason: 'is not loaded by this service (MODEL_VERSIONS_LOADED)' };
    }
  }
  const ready = [...statuses].filter(([, s]) => s === 'ready').map(([v]) => v);
  if (ready.length > 0) return { kind: 'ready', version: Math.max(...ready) };
  if ([...statuses.values()].includes('loading')) return { kind: 'loading' };
  return statuses.size === 0
    ? { kind: 'absent' }
    : { kind: 'unavailable', reason: 'has no version that loaded (see GET /models)' };
}

/**
 * The model a request without `model` gets: the configured default when the registry has it, else
 * the first model by name that has a ready version, else the first model by name. A configured
 * name the registry lacks falls back rather than failing every request: the built-in default names
 * the model shipped in models/, which another registry need not contain.
 *
 * @example defaultModelName(['b', 'a'], (n) => n === 'b', null) // 'b'
 * @example defaultModelName(['b', 'a'], () => true, 'z') // 'a'
 */
export function defaultModelName(
  names: readonly string[],
  hasReady: (name: string) => boolean,
  configured: string | null,
): string | null {
  if (configured !== null && names.includes(configured)) return configured;
  const sorted = [...names].sort();
  return sorted.find(hasReady) ?? sorted[0] ?? null;
}
