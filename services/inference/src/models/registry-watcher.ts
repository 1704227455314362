/**
 * Tells the model manager when the registry directory may have changed: `fs.watch` on the root and
 * on each model folder (a new version appears there as one atomic rename), plus a periodic rescan
 * because watch events are lost on some file systems (network mounts, some container volumes).
 * It only says "look again"; what changed is the manager's scan to find out.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/** Events within this window are folded into one rescan (a publish is several renames). */
export const WATCH_DEBOUNCE_MS = 100;

export interface WatcherOptions {
  root: string;
  /** Periodic rescan interval (ms). */
  rescanMs: number;
  /** Use fs.watch; with false only the periodic rescan runs. */
  watch: boolean;
  onChange: () => void;
  onWatchError?: (error: Error) => void;
}

export class RegistryWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private interval: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: WatcherOptions) {}

  /** Starts the periodic rescan and watches the root and the given model folders. */
  start(modelNames: readonly string[]): void {
    this.interval = setInterval(() => this.options.onChange(), this.options.rescanMs);
    this.interval.unref();
    this.follow(modelNames);
  }

  /** Watches exactly the root and these model folders (called after every scan). */
  follow(modelNames: readonly string[]): void {
    if (this.closed || !this.options.watch) return;
    const wanted = new Set([this.options.root, ...modelNames.map((n) => path.join(this.options.root, n))]);
    for (const [dir, watcher] of this.watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (this.watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, (_event, filename) => this.changed(filename));
        watcher.on('error', (error) => {
          // The folder went away or became unreadable: drop it; the next scan re-follows.
          watcher.close();
          this.watchers.delete(dir);
          this.options.onWatchError?.(error);
          this.changed(null);
        });
        this.watchers.set(dir, watcher);
      } catch (error) {
        // Missing root or model folder: the periodic rescan notices when it appears.
        this.options.onWatchError?.(error as Error);
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.interval) clearInterval(this.interval);
    if (this.debounce) clearTimeout(this.debounce);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private changed(filename: string | Buffer | null): void {
    // Staging and claim folders of a publish in progress start with a dot; their final rename does not.
    if (typeof filename === 'string' && filename.startsWith('.')) return;
    if (this.closed || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      if (!this.closed) this.options.onChange();
    }, WATCH_DEBOUNCE_MS);
  }
}
