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

/** What a request without `model` gets, and why when it is not the configured default model. */
export type DefaultResolution =
  /** `model` serves requests without `model`; `failover` says why it is not DEFAULT_MODEL. */
  | { model: string; failover: { configured: string; reason: string } | null }
  /** No model has a ready version: requests without `model` get 503 NOT_READY. */
  | { model: null; failover: null };

/**
 * The default-model policy (README, "Default model and failover"): requests without `model` get the
 * configured default model while it has a ready version. When it has none (not in the registry,
 * every version failed or was removed, or it is reloading), they fail over to the fallback model
 * when that has a ready version, else to the first model by name that has one, and the reason is
 * reported; they never get a 404 for a model the client did not name. Without a configured default
 * the first ready model by name serves, and that is no failover.
 *
 * @example resolveDefault(['a', 'b'], (n) => (n === 'b' ? { kind: 'ready', version: 1 } : { kind: 'absent' }), { configured: 'b', fallback: null }) // { model: 'b', failover: null }
 * @example resolveDefault(['a', 'b'], (n) => (n === 'a' ? { kind: 'ready', version: 1 } : { kind: 'loading' }), { configured: 'b', fallback: null }) // { model: 'a', failover: { configured: 'b', reason: 'is loading' } }
 */
export function resolveDefault(
  names: readonly string[],
  pick: (name: string) => Pick,
  models: { configured: string | null; fallback: string | null },
): DefaultResolution {
  const ready = (name: string) => names.includes(name) && pick(name).kind === 'ready';
  const { configured, fallback } = models;
  if (configured !== null && ready(configured)) return { model: configured, failover: null };
  const sorted = [...names].sort();
  const substitute = fallback !== null && ready(fallback) ? fallback : sorted.find(ready);
  if (substitute === undefined) return { model: null, failover: null };
  if (configured === null) return { model: substitute, failover: null };
  return { model: substitute, failover: { configured, reason: whyNotServing(names.includes(configured) ? pick(configured) : { kind: 'absent' }) } };
}

/** Why a model cannot serve a request without `version`, from its pick. */
function whyNotServing(pick: Pick): string {
  switch (pick.kind) {
    case 'ready':
      return 'is serving';
    case 'loading':
      return 'is loading';
    case 'unavailable':
      return pick.reason;
    case 'absent':
      return 'is not in the registry';
  }
}
