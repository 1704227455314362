/**
 * Wraps the real runtime factory so a test can make the next batch throw, as a crashed or
 * misbehaving runtime would; every other batch runs on the real runtime. Also records the size of
 * every batch the runtime saw.
 */
import type { InferenceRuntime, RuntimeFactory } from '../../src/runtime/types';

export interface FaultInjection {
  factory: RuntimeFactory;
  /** The next `count` runtime.run calls (after warm-up) throw. */
  failNextBatches(count: number): void;
  /** Sizes of the batches run since the service started, in order (warm-up excluded). */
  batchSizes: number[];
}

export function faultInjecting(real: RuntimeFactory): FaultInjection {
  let failures = 0;
  const batchSizes: number[] = [];
  const factory: RuntimeFactory = (kind, options) => {
    const runtime = real(kind, options);
    let loaded = false;
    const wrapped: InferenceRuntime = {
      kind: runtime.kind,
      load: async (dir, metadata) => {
        await runtime.load(dir, metadata);
        loaded = true;
      },
      run: async (input, n) => {
        if (!loaded) return runtime.run(input, n);
        batchSizes.push(n);
        if (failures > 0) {
          failures--;
          throw new Error('injected runtime failure');
        }
        return runtime.run(input, n);
      },
      dispose: () => runtime.dispose(),
    };
    return wrapped;
  };
  return { factory, failNextBatches: (count) => (failures = count), batchSizes };
}
