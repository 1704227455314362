/**
 * A few full training steps of reduced backbones (forward, every gradient kernel, AdamW) give the
 * same loss curve on the wasm backend with our kernels as on the cpu backend, and the wasm
 * backend's memory stays flat over 100 steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { buildBackbone, headLayerName, resolveBackbone } from '../../src/backbones';
import type { Batch } from '../../src/data/batches';
import { selectTrainingBackend } from '../../src/backend';
import { emscripten } from '../../src/kernels/wasm-heap';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/adamw';
import { trainStep, type StepContext } from '../../src/train/train-step';

const CLASSES = 6;
const LEARNING_RATE = 3e-3;
/**
 * Per-step loss difference allowed between backends, relative to the loss. The kernels sum in
 * a different order than the cpu backend (float32 rounding, ~1e-7 relative), and Adam turns the
 * relative noise of nearly cancelling gradients (a BatchNorm scale behind a max-pool) into
 * full-size updates: measured up to 6e-5 by the third step.
 */
const LOSS_TOLERANCE = 1e-3;
const PARITY_STEPS = 3;
const LEAK_STEPS = 100;
const LEAK_WARMUP_STEPS = 5;
/** The cpu backend needs seconds per reduced-backbone step. */
const TEST_TIMEOUT_MS = 90_000;

interface Trainer {
  step(): number;
  dispose(): void;
}

/** Training steps exactly as the training loop takes them (trainStep), on one fixed batch. */
function trainer(backbone: string, inputSize: number, batch: number): Trainer {
  const model = buildBackbone(backbone, { inputSize, numClasses: CLASSES, seed: 5 });
  const head = model.getLayer(headLayerName(resolveBackbone(backbone))).output as tf.SymbolicTensor;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new AdamW({ ...DEFAULT_ADAMW, clipNorm: null });
  const ctx: StepContext = {
    logitsModel: tf.model({ inputs: model.inputs, outputs: head }),
    variables,
    keys: variables.map((_, i) => i),
    optimizer,
    loss: { labelSmoothing: 0, classWeights: null },
    microBatch: null,
    inputSize,
  };
  const images = tf.tidy(() =>
    tf.randomNormal([batch, inputSize, inputSize, 3], 0, 1, 'float32', 21).dataSync(),
  );
  const fixed: Batch = {
    x: Float32Array.from(images),
    y: Int32Array.from({ length: batch }, (_, i) => i % CLASSES),
    n: batch,
  };
  return {
    step: () => trainStep(ctx, fixed, { lr: LEARNING_RATE, beta1: 0.9 }).loss,
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}

async function lossCurve(backend: string, backbone: string): Promise<number[]> {
  await tf.setBackend(backend);
  const run = trainer(backbone, 32, 4);
  try {
    return Array.from({ length: PARITY_STEPS }, () => run.step());
  } finally {
    run.dispose();
  }
}

beforeAll(async () => {
  await selectTrainingBackend('wasm');
});

describe('training on wasm matches training on cpu', () => {
  it.each(['resnet-tiny', 'densenet-tiny'])(
    '%s: same loss curve',
    async (backbone) => {
      const wasm = await lossCurve('wasm', backbone);
      const cpu = await lossCurve('cpu', backbone);
      // The curve must move, or equality would prove nothing about the gradients.
      expect(Math.abs(cpu[PARITY_STEPS - 1] - cpu[0])).toBeGreaterThan(1e-2);
      wasm.forEach((loss, i) => {
        expect(Math.abs(loss - cpu[i]) / cpu[i]).toBeLessThan(LOSS_TOLERANCE);
      });
    },
    TEST_TIMEOUT_MS,
  );
});

describe('wasm training memory', () => {
  it.each([
    ['resnet-tiny', 16],
    ['densenet-tiny', 32],
  ])(
    `%s keeps tensor count, wasm heap and live allocations flat over ${LEAK_STEPS} steps`,
    async (backbone, inputSize) => {
      await tf.setBackend('wasm');
      const heap = emscripten(tf.backend() as BackendWasm);
      // Count live heap blocks: a kernel that forgets to free scratch space grows this even
      // when the heap itself has room to spare.
      const live = new Set<number>();
      const malloc = heap._malloc.bind(heap);
      const free = heap._free.bind(heap);
      heap._malloc = (bytes: number) => {
        const offset = malloc(bytes);
        live.add(offset);
        return offset;
      };
      heap._free = (offset: number) => {
        live.delete(offset);
        free(offset);
      };
      const run = trainer(backbone, inputSize, 4);
      try {
        for (let i = 0; i < LEAK_WARMUP_STEPS; i++) run.step();
        const before = { tensors: tf.memory().numTensors, heap: heap.HEAPU8.length, live: live.size };
        for (let i = 0; i < LEAK_STEPS; i++) run.step();
        expect({ tensors: tf.memory().numTensors, heap: heap.HEAPU8.length, live: live.size }).toEqual(
          before,
        );
      } finally {
        run.dispose();
        heap._malloc = malloc;
        heap._free = free;
      }
    },
    TEST_TIMEOUT_MS,
  );
});
