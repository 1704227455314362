/**
 * One batching queue per loaded model version (DESIGN §5). The model manager tells the batcher
 * when a version starts and stops serving; requests hand their preprocessed faces to the queue of
 * the version they resolved to.
 */
import { NUM_CLASSES } from '@fer/shared';
import { VersionUnloadedError } from '../errors';
import type { LoadedVersion } from '../models/model-manager';
import { BatchQueue, type BatchObserver, type ClassifyResult } from './batch-queue';
import type { BatchPolicy } from './policy';

const key = (name: string, version: number) => `${name}@${version}`;

export class Batcher {
  private readonly queues = new Map<string, BatchQueue>();
  private draining = false;

  constructor(
    private readonly policy: BatchPolicy,
    private readonly observerFor: (version: LoadedVersion) => BatchObserver = () => ({}),
  ) {}

  /** Creates the queue of a version that just loaded. */
  attach(version: LoadedVersion): void {
    const size = version.metadata.preprocessing.input_size;
    const queue = new BatchQueue(version.runtime, {
      policy: this.policy,
      inputLength: size * size * version.metadata.preprocessing.channels,
      outputLength: version.metadata.classes.length || NUM_CLASSES,
      observer: this.observerFor(version),
    });
    this.queues.set(key(version.name, version.version), queue);
    if (this.draining) void queue.drain();
  }

  /** Lets a version's queued and running batches finish, then forgets the queue. */
  async detach(version: Pick<LoadedVersion, 'name' | 'version'>): Promise<void> {
    const id = key(version.name, version.version);
    const queue = this.queues.get(id);
    if (!queue) return;
    this.queues.delete(id);
    await queue.close();
  }

  /**
   * Classifies preprocessed inputs with a version's model through its queue.
   *
   * @example const { outputs } = await batcher.classify(version, [input], signal, deadline);
   * @throws OverloadedError, VersionUnloadedError (503; the version was just unloaded), InferenceFailedError,
   *         or the signal's reason when the request is abandoned.
   */
  classify(
    version: Pick<LoadedVersion, 'name' | 'version'>,
    inputs: readonly Float32Array[],
    signal: AbortSignal,
    deadline?: number,
  ): Promise<ClassifyResult> {
    const queue = this.queues.get(key(version.name, version.version));
    if (!queue) {
      return Promise.reject(new VersionUnloadedError(version.name, version.version));
    }
    return queue.classify(inputs, signal, deadline);
  }

  /** Items waiting across all queues. */
  get depth(): number {
    let total = 0;
    for (const queue of this.queues.values()) total += queue.depth;
    return total;
  }

  /** Shutdown: dispatch everything now (no batching delay) and wait until every queue is idle. */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.all([...this.queues.values()].map((queue) => queue.drain()));
  }
}
