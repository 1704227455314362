/**
 * The runtime's own throughput on the benchmark's model, with no HTTP, preprocessing or queue:
 * the ceiling the service's batched throughput is compared with.
 */
import { readVersion, resolve } from '@fer/shared';
import { createInProcessRuntime } from '../../src/runtime';
import type { RuntimeKind } from '../../src/runtime/types';

/** Timed runs per batch size (after one warm-up run); the median is reported. */
const RUNS = 7;

export interface RawThroughput {
  batch: number;
  median_ms: number;
  images_per_s: number;
}

/**
 * Images/s of `kind` on the (name, version) model at each batch size.
 *
 * @example await rawThroughput('models', 'resnet152', undefined, 'onnx', [1, 8, 32])
 */
export async function rawThroughput(
  registry: string,
  name: string,
  version: number | undefined,
  kind: RuntimeKind,
  batches: readonly number[],
): Promise<RawThroughput[]> {
  const entry = await resolve(registry, name, version);
  const checked = await readVersion(registry, name, entry.version);
  if (checked.status !== 'ready') throw new Error(`${name} v${entry.version} is not valid`);
  const size = checked.metadata.preprocessing.input_size;
  const runtime = createInProcessRuntime(kind, { device: 'cpu' });
  await runtime.load(checked.dir, checked.metadata);
  const results: RawThroughput[] = [];
  try {
    for (const batch of batches) {
      const input = new Float32Array(batch * size * size * 3).map((_, i) => Math.sin(i) * 2);
      await runtime.run(input, batch);
      const times: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const started = performance.now();
        await runtime.run(input, batch);
        times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)];
      results.push({ batch, median_ms: median, images_per_s: (batch * 1000) / median });
    }
  } finally {
    await runtime.dispose();
  }
  return results;
}
