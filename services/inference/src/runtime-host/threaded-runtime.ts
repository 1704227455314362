/**
 * The runtime factory the service runs with (server.ts, and the tests' apps): every model version's InferenceRuntime lives in its own worker
 * thread (see runtime-worker.ts), behind the same InferenceRuntime interface. The event loop keeps
 * parsing requests and preprocessing the next batch while a batch computes. A worker that dies is
 * replaced (and the model reloaded) on the next batch; only the batch it was running fails.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ModelMetadata } from '@fer/shared';
import type { InferenceRuntime, RuntimeFactory, RuntimeKind, RuntimeOptions } from '../runtime/types';
import type { HostRequest, RuntimeWorkerData, WorkerReply } from './protocol';

/** The worker is TypeScript: each thread registers tsx's loader before requiring it. */
const WORKER_FILE = path.join(__dirname, 'runtime-worker.ts');
const WORKER_BOOTSTRAP = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(WORKER_FILE)});`;

interface Pending {
  resolve(output: Float32Array | undefined): void;
  reject(error: Error): void;
}

type Request = HostRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class ThreadedRuntime implements InferenceRuntime {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private loaded: { versionDir: string; metadata: ModelMetadata } | null = null;
  private disposed = false;

  constructor(
    readonly kind: RuntimeKind,
    private readonly options: RuntimeOptions,
  ) {}

  async load(versionDir: string, metadata: ModelMetadata): Promise<void> {
    await this.call({ type: 'load', versionDir, metadata });
    this.loaded = { versionDir, metadata };
  }

  async run(input: Float32Array, n: number): Promise<Float32Array> {
    if (!this.worker && this.loaded && !this.disposed) {
      // The previous worker died: bring the model back before serving the next batch.
      await this.call({ type: 'load', ...this.loaded });
    }
    const output = await this.call({ type: 'run', input, n });
    if (!output) throw new Error('the runtime worker returned no output');
    return output;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const worker = this.worker;
    if (!worker) return;
    try {
      await this.call({ type: 'dispose' });
    } finally {
      this.worker = null;
      await worker.terminate();
    }
  }

  private spawn(): Worker {
    const data: RuntimeWorkerData = { kind: this.kind, options: this.options };
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: data });
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      if (reply.type === 'done') pending.resolve(reply.output);
      else pending.reject(new Error(reply.message));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    };
    worker.on('error', (error) => fail(error));
    worker.on('exit', (code) => fail(new Error(`the runtime worker exited with code ${code}`)));
    return worker;
  }

  private call(request: Request): Promise<Float32Array | undefined> {
    if (this.disposed && request.type !== 'dispose') {
      return Promise.reject(new Error('the runtime has been disposed'));
    }
    this.worker ??= this.spawn();
    const worker = this.worker;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id } as HostRequest);
    });
  }
}

/**
 * A RuntimeFactory whose runtimes run in worker threads; what server.ts gives buildApp.
 *
 * @example const app = await buildApp({ config, runtimeFactory: createThreadedRuntime });
 */
export const createThreadedRuntime: RuntimeFactory = (kind: RuntimeKind, options: RuntimeOptions) =>
  new ThreadedRuntime(kind, options);
