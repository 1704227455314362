/**
 * A worker thread that owns one InferenceRuntime (made by the runtime module's own factory) and
 * runs its load/run/dispose on request. onnxruntime-node computes a batch synchronously on the
 * calling thread (hundreds of ms for a large backbone), so on the main thread it would stop HTTP
 * parsing and preprocessing for the whole batch; here it does not. Started by threaded-runtime.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createInProcessRuntime } from '../runtime/in-process';
import type { HostRequest, RuntimeWorkerData, WorkerReply } from './protocol';

const { kind, options } = workerData as RuntimeWorkerData;
const port = parentPort;
if (!port) throw new Error('runtime-worker.ts must run in a worker thread');
const runtime = createInProcessRuntime(kind, options);

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

async function handle(request: HostRequest): Promise<void> {
  switch (request.type) {
    case 'load':
      await runtime.load(request.versionDir, request.metadata);
      reply({ type: 'done', id: request.id });
      return;
    case 'run': {
      const output = await runtime.run(request.input, request.n);
      // Send our own copy: the runtime's array may be a view on memory it reuses.
      const owned = output.slice();
      reply({ type: 'done', id: request.id, output: owned }, [owned.buffer as ArrayBuffer]);
      return;
    }
    case 'dispose':
      await runtime.dispose();
      reply({ type: 'done', id: request.id });
      return;
  }
}

port.on('message', (request: HostRequest) => {
  handle(request).catch((error: unknown) =>
    reply({
      type: 'failed',
      id: request.id,
      message: error instanceof Error ? error.message : String(error),
    }),
  );
});
