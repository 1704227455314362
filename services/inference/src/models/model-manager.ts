/**
 * The loaded model versions and their lifecycle: scan the registry (through @fer/shared), load and
 * warm up each version that should serve, notice new and removed versions without a restart, and
 * keep a failed version's error for GET /models without disturbing the others. Requests ask it for
 * a version by (name, version); it never touches HTTP.
 */
import { stat } from 'node:fs/promises';
import { listModels, ModelNotFoundError, type ModelMetadata, type VersionEntry } from '@fer/shared';
import type { InferenceRuntime } from '../runtime/types';
import { ModelUnavailableError, NotReadyError } from '../errors';
import { RegistryWatcher } from './registry-watcher';
import {
  pickVersion,
  resolveDefault,
  versionsToLoad,
  type DefaultResolution,
  type VersionStatus,
} from './select-versions';

/** A version that is loaded and can serve. */
export interface LoadedVersion {
  name: string;
  version: number;
  dir: string;
  metadata: ModelMetadata;
  runtime: InferenceRuntime;
}

export interface VersionView {
  name: string;
  version: number;
  status: VersionStatus;
  /** Why a failed version failed, with registry-relative paths only. */
  error: string | null;
  metadata: ModelMetadata | null;
  /** Milliseconds the load and warm-up took. */
  loadMs: number | null;
}

export interface ModelView {
  name: string;
  /** The version a request without `version` gets now, or null when none is ready. */
  defaultVersion: number | null;
  versions: VersionView[];
}

interface VersionRecord extends VersionView {
  dir: string;
  /** Identity of the version's files, so a version that was replaced on disk is reloaded. */
  fingerprint: string | null;
  runtime: InferenceRuntime | null;
}

/** What requests without `model` get now (GET /models, GET /readyz). */
export interface DefaultStatus {
  /** True until the versions found by the first scan have all loaded or failed. */
  starting: boolean;
  /** The model and version a request without `model` gets; null when none can serve. */
  model: string | null;
  version: number | null;
  /** Set while that is not DEFAULT_MODEL: which model was configured and why it does not serve. */
  failover: { configured: string; reason: string } | null;
}

export interface ManagerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ModelManagerOptions {
  root: string;
  /** Newest N valid versions per model stay loaded; 0 = all. */
  versionsLoaded: number;
  defaultModel: string | null;
  /** Serves requests without `model` while the default model has no ready version (null: the first ready by name). */
  fallbackModel?: string | null;
  rescanMs: number;
  watch: boolean;
  createRuntime: () => InferenceRuntime;
  logger: ManagerLogger;
  /** Told the outcome of each load, for metrics. */
  onLoadOutcome?: (name: string, ok: boolean) => void;
}

type Listener = (version: LoadedVersion) => void | Promise<void>;

const key = (name: string, version: number) => `${name}@${version}`;

/** Why `dir` cannot be read as a directory (an errno code such as ENOENT), or null when it can. */
const directoryProblem = (dir: string): Promise<string | null> =>
  stat(dir).then(
    (stats) => (stats.isDirectory() ? null : 'ENOTDIR'),
    (error: NodeJS.ErrnoException) => error.code ?? String(error),
  );

function fingerprintOf(metadata: ModelMetadata): string {
  return `${metadata.created_at}|${metadata.artifacts.map((a) => `${a.path}:${a.sha256}`).join(',')}`;
}

/**
 * Removes what a client should not see from an error message: the registry root becomes
 * `<registry>` and any other absolute path keeps only its last segment.
 */
export function redactPaths(message: string, root: string): string {
  return message
    .split(root)
    .join('<registry>')
    .replace(/(^|[\s'"(=:])\/(?:[^\s'"()/]+\/)+([^\s'"()/]+)/g, '$1…/$2');
}

export class ModelManager {
  private readonly records = new Map<string, VersionRecord>();
  private readonly loadedListeners: Listener[] = [];
  private readonly unloadHooks: Listener[] = [];
  private scanning: Promise<void> | null = null;
  private scanAgain = false;
  private closed = false;
  private readonly watcher: RegistryWatcher;
  /** The failover last logged ("" for none), so each change is logged once. */
  private loggedFailover = '';
  private started = false;

  constructor(private readonly options: ModelManagerOptions) {
    this.watcher = new RegistryWatcher({
      root: options.root,
      rescanMs: options.rescanMs,
      watch: options.watch,
      onChange: () => void this.scan(),
      onWatchError: (error) => options.logger.warn({ err: error.message }, 'registry watch error'),
    });
  }

  /** Called after a version has loaded and warmed up, before it is offered to requests. */
  onLoaded(listener: Listener): void {
    this.loadedListeners.push(listener);
  }

  /** Awaited before a version's runtime is disposed (the batcher drains its queue here). */
  onUnload(hook: Listener): void {
    this.unloadHooks.push(hook);
  }

  /** First scan and load, then watching. Resolves when the initial versions are loaded or failed. */
  async start(): Promise<void> {
    await this.scan();
    this.started = true;
    this.watcher.start(this.modelNames());
  }

  /** Looks at the registry again; concurrent calls share one scan (and one more if asked meanwhile). */
  scan(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.scanning) {
      this.scanAgain = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.scanAgain = false;
        try {
          await this.scanOnce();
        } catch (error) {
          this.options.logger.error({ err: redactPaths(String(error), this.options.root) }, 'registry scan failed');
        }
      } while (this.scanAgain && !this.closed);
    })().finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  /** Number of versions that can serve now. */
  get readyCount(): number {
    return [...this.records.values()].filter((r) => r.status === 'ready').length;
  }

  /**
   * The model a request without `model` gets; while none can serve, the one it will get once it
   * loads (the configured default when the registry has it, else the first by name).
   */
  defaultModel(): string | null {
    const names = this.modelNames();
    const configured = this.options.defaultModel;
    return this.resolveDefault().model ?? (configured !== null && names.includes(configured) ? configured : (names[0] ?? null));
  }

  /** What requests without `model` get now, for GET /readyz and GET /models. */
  defaultStatus(): DefaultStatus {
    const resolution = this.resolveDefault();
    const pick = resolution.model === null ? null : pickVersion(this.statuses(resolution.model));
    return {
      starting: !this.started,
      model: resolution.model,
      version: pick?.kind === 'ready' ? pick.version : null,
      failover: resolution.failover,
    };
  }

  /** Every model with every version, for GET /models. */
  list(): ModelView[] {
    return this.modelNames().map((name) => {
      const versions = [...this.records.values()]
        .filter((r) => r.name === name)
        .sort((a, b) => a.version - b.version)
        .map((r) => this.view(r));
      const pick = pickVersion(this.statuses(name));
      return { name, defaultVersion: pick.kind === 'ready' ? pick.version : null, versions };
    });
  }

  /**
   * One version's state with its full metadata (null only when the metadata itself is invalid).
   *
   * @throws ModelNotFoundError when the registry has no such version.
   */
  describe(name: string, version: number): VersionView {
    const record = this.records.get(key(name, version));
    if (!record) throw new ModelNotFoundError(name, version);
    return this.view(record);
  }

  /**
   * The loaded version a request means: the pinned version, or the model's highest ready version;
   * without a name, the default model.
   *
   * @throws ModelNotFoundError (404) for an unknown or unloadable model or version,
   *         NotReadyError (503) while it is still loading or when nothing is loaded yet.
   */
  get(name?: string, version?: number): LoadedVersion {
    const modelName = name ?? this.unnamedModel(version);
    if (modelName === null) throw new NotReadyError('No model is loaded yet');
    const pick = pickVersion(this.statuses(modelName), version);
    switch (pick.kind) {
      case 'ready': {
        const record = this.records.get(key(modelName, pick.version));
        if (record?.runtime && record.metadata) {
          return {
            name: modelName,
            version: pick.version,
            dir: record.dir,
            metadata: record.metadata,
            runtime: record.runtime,
          };
        }
        throw new NotReadyError(`Model "${modelName}" is being reloaded`);
      }
      case 'loading':
        throw new NotReadyError(
          `Model "${modelName}"${version === undefined ? '' : ` version ${version}`} is still loading`,
        );
      case 'unavailable':
        throw new ModelUnavailableError(
          `Model "${modelName}"${version === undefined ? '' : ` version ${version}`} ${pick.reason}`,
        );
      case 'absent':
        // Only a request that names nothing waits for a model; a pinned version that the default
        // model lacks is as absent as any other.
        if (name === undefined && version === undefined) throw new NotReadyError('No model is loaded yet');
        throw new ModelNotFoundError(modelName, version);
    }
  }

  /** Stops watching, waits for a scan in progress, then unloads every version. */
  async close(): Promise<void> {
    this.closed = true;
    this.watcher.close();
    await this.scanning;
    for (const record of [...this.records.values()]) await this.unload(record);
    this.records.clear();
  }

  private resolveDefault(): DefaultResolution {
    return resolveDefault(this.modelNames(), (name) => pickVersion(this.statuses(name)), {
      configured: this.options.defaultModel,
      fallback: this.options.fallbackModel ?? null,
    });
  }

  /**
   * The model a request that names none means: the default (or its failover) for a plain request;
   * with a pinned version, the configured default model when the registry has it (a version
   * number belongs to one model, so it never fails over to another model's version).
   */
  private unnamedModel(version: number | undefined): string | null {
    const configured = this.options.defaultModel;
    if (version !== undefined && configured !== null && this.modelNames().includes(configured)) return configured;
    return this.resolveDefault().model;
  }

  /** Logs each change of what requests without `model` get: a failover starting, changing or ending. */
  private noteDefault(): void {
    const { model, failover } = this.resolveDefault();
    const state = failover === null ? '' : `${model}|${failover.configured}|${failover.reason}`;
    if (state === this.loggedFailover) return;
    if (failover !== null) {
      this.options.logger.warn(
        { default_model: failover.configured, serving: model, reason: failover.reason },
        `DEFAULT_MODEL "${failover.configured}" ${failover.reason}: requests without a model are served by "${model}"`,
      );
    } else {
      this.options.logger.info({ default_model: model }, 'requests without a model are served by the default model again');
    }
    this.loggedFailover = state;
  }

  private modelNames(): string[] {
    return [...new Set([...this.records.values()].map((r) => r.name))].sort();
  }

  private statuses(name: string): Map<number, VersionStatus> {
    const out = new Map<number, VersionStatus>();
    for (const r of this.records.values()) if (r.name === name) out.set(r.version, r.status);
    return out;
  }

  private view(record: VersionRecord): VersionView {
    const { name, version, status, error, metadata, loadMs } = record;
    return { name, version, status, error, metadata, loadMs };
  }

  /**
   * Throws while versions are loaded and the registry root cannot be read. listModels reads a
   * missing root as an empty registry, which would unload every version; a registry that vanishes
   * while versions serve is far likelier an unmounted or moved volume than the removal of every
   * model: keep serving what is loaded until it is back.
   */
  private async assertRegistryReadable(): Promise<void> {
    const problem = this.records.size > 0 ? await directoryProblem(this.options.root) : null;
    if (problem !== null) throw new Error(`${problem}: the registry directory cannot be read; serving what is loaded`);
  }

  private async scanOnce(): Promise<void> {
    await this.assertRegistryReadable();
    const models = await listModels(this.options.root, { verify: 'size' });
    // The root can go between the check above and the listing's reads of model folders, which then
    // read as removed (seen under load in the fault tests): a listing is only trusted if the root
    // is still there after it.
    await this.assertRegistryReadable();
    const seen = new Set<string>();
    const toLoad: Extract<VersionEntry, { status: 'ready' }>[] = [];
    for (const model of models) {
      const valid = model.versions.filter((v) => v.status === 'ready').map((v) => v.version);
      const keep = new Set(versionsToLoad(valid, this.options.versionsLoaded));
      for (const entry of model.versions) {
        const id = key(entry.name, entry.version);
        seen.add(id);
        const record = this.records.get(id);
        if (entry.status === 'invalid') {
          if (record) await this.unload(record);
          this.records.set(id, {
            name: entry.name,
            version: entry.version,
            dir: entry.dir,
            status: 'failed',
            error: redactPaths(entry.problems.join('; '), this.options.root),
            metadata: null,
            loadMs: null,
            fingerprint: null,
            runtime: null,
          });
          continue;
        }
        const fingerprint = fingerprintOf(entry.metadata);
        const unchanged = record !== undefined && record.fingerprint === fingerprint;
        if (!keep.has(entry.version)) {
          if (record) await this.unload(record);
          this.records.set(id, this.notLoaded(entry, fingerprint));
        } else if (!unchanged || record.status === 'not_loaded') {
          if (record) await this.unload(record);
          this.records.set(id, { ...this.notLoaded(entry, fingerprint), status: 'loading' });
          toLoad.push(entry);
        }
      }
    }
    for (const [id, record] of [...this.records]) {
      if (!seen.has(id)) {
        await this.unload(record);
        this.records.delete(id);
        this.options.logger.info({ model: record.name, version: record.version }, 'model version removed');
      }
    }
    this.watcher.follow(models.map((m) => m.name));
    // Newest first: a freshly published version starts serving as the default as soon as possible.
    toLoad.sort((a, b) => b.version - a.version);
    for (const entry of toLoad) {
      if (this.closed) break;
      await this.load(entry);
      if (this.started) this.noteDefault();
    }
    // During start-up whatever loads first would look like a failover: judge once all are tried.
    this.noteDefault();
  }

  private notLoaded(entry: Extract<VersionEntry, { status: 'ready' }>, fingerprint: string): VersionRecord {
    return {
      name: entry.name,
      version: entry.version,
      dir: entry.dir,
      status: 'not_loaded',
      error: null,
      metadata: entry.metadata,
      loadMs: null,
      fingerprint,
      runtime: null,
    };
  }

  private async load(entry: Extract<VersionEntry, { status: 'ready' }>): Promise<void> {
    const id = key(entry.name, entry.version);
    const started = performance.now();
    const runtime = this.options.createRuntime();
    try {
      await runtime.load(entry.dir, entry.metadata);
      const loaded: LoadedVersion = { ...entry, runtime };
      for (const listener of this.loadedListeners) await listener(loaded);
    } catch (error) {
      const message = redactPaths(error instanceof Error ? error.message : String(error), this.options.root);
      await runtime.dispose().catch(() => undefined);
      const record = this.records.get(id);
      if (record) Object.assign(record, { status: 'failed', error: message, runtime: null });
      this.options.onLoadOutcome?.(entry.name, false);
      this.options.logger.error({ model: entry.name, version: entry.version, err: message }, 'model version failed to load');
      return;
    }
    const loadMs = Math.round(performance.now() - started);
    const record = this.records.get(id);
    if (!record || this.closed) {
      // Removed or shutting down while loading: never offer it.
      await this.runUnloadHooks({ ...entry, runtime });
      await runtime.dispose().catch(() => undefined);
      return;
    }
    Object.assign(record, { status: 'ready', runtime, loadMs, error: null });
    this.options.onLoadOutcome?.(entry.name, true);
    this.options.logger.info({ model: entry.name, version: entry.version, loadMs }, 'model version loaded');
  }

  private async unload(record: VersionRecord): Promise<void> {
    const runtime = record.runtime;
    if (!runtime || !record.metadata) return;
    // Stop offering it first, then let queued work finish, then free it.
    record.status = 'not_loaded';
    record.runtime = null;
    await this.runUnloadHooks({
      name: record.name,
      version: record.version,
      dir: record.dir,
      metadata: record.metadata,
      runtime,
    });
    await runtime.dispose().catch((error: unknown) =>
      this.options.logger.warn({ model: record.name, version: record.version, err: String(error) }, 'dispose failed'),
    );
  }

  private async runUnloadHooks(version: LoadedVersion): Promise<void> {
    for (const hook of this.unloadHooks) {
      try {
        await hook(version);
      } catch (error) {
        this.options.logger.warn({ model: version.name, version: version.version, err: String(error) }, 'unload hook failed');
      }
    }
  }
}
