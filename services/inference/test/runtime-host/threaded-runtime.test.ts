/**
 * The worker-thread runtime host against the runtime it hosts: same answers as the runtime on the
 * main thread, load errors passed through, and a dead worker replaced on the next batch.
 */
import { readFile, writeFile, cp, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { readVersion, type ModelMetadata } from '@fer/shared';
import { createInProcessRuntime } from '../../src/runtime';
import { ThreadedRuntime } from '../../src/runtime-host/threaded-runtime';
import { removeDir, testModels, TEST_MODEL } from '../helpers/test-models';

/** The same weights and input in the same engine give the same float32 answer within this. */
const SAME_ANSWER_TOLERANCE = 1e-6;
const BATCH = 3;

let dir: string;
let metadata: ModelMetadata;
beforeAll(async () => {
  const { registry } = await testModels();
  const entry = await readVersion(registry, TEST_MODEL, 1);
  if (entry.status !== 'ready') throw new Error('the test model is not valid');
  dir = entry.dir;
  metadata = entry.metadata;
});

function batch(): Float32Array {
  const size = metadata.preprocessing.input_size;
  return new Float32Array(BATCH * size * size * 3).map((_, i) => Math.sin(i / 7));
}

test('gives the same probabilities as the runtime on the main thread', async () => {
  const local = createInProcessRuntime('onnx', { device: 'cpu' });
  const threaded = new ThreadedRuntime('onnx', { device: 'cpu' });
  await Promise.all([local.load(dir, metadata), threaded.load(dir, metadata)]);
  try {
    const expected = await local.run(batch(), BATCH);
    const actual = await threaded.run(batch(), BATCH);
    expect(actual).toHaveLength(expected.length);
    actual.forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThan(SAME_ANSWER_TOLERANCE));
  } finally {
    await Promise.all([local.dispose(), threaded.dispose()]);
  }
});

test('a load error reaches the caller with its message', async () => {
  const broken = await mkdtemp(path.join(os.tmpdir(), 'fer-broken-version-'));
  try {
    await cp(dir, broken, { recursive: true });
    const model = path.join(broken, 'model.onnx');
    await writeFile(model, Buffer.alloc((await readFile(model)).length, 0x42));
    const runtime = new ThreadedRuntime('onnx', { device: 'cpu' });
    await expect(runtime.load(broken, metadata)).rejects.toThrow(/model\.onnx/);
    await runtime.dispose();
  } finally {
    await removeDir(broken);
  }
});

test('a worker that dies is replaced, with the model reloaded, on the next batch', async () => {
  const runtime = new ThreadedRuntime('onnx', { device: 'cpu' });
  await runtime.load(dir, metadata);
  try {
    const before = await runtime.run(batch(), BATCH);
    // Kill the worker from outside, as a crash would.
    await (runtime as unknown as { worker: Worker }).worker.terminate();
    const after = await runtime.run(batch(), BATCH);
    after.forEach((value, i) => expect(Math.abs(value - before[i])).toBeLessThan(SAME_ANSWER_TOLERANCE));
  } finally {
    await runtime.dispose();
  }
});
