/**
 * A few full training steps of reduced backbones (forward, every gradient kernel, AdamW) give the
 * same loss curve on the wasm backend with our kernels as on the cpu backend, and the wasm
 * backend's memory stays flat over 100 steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { buildBackbone, headLayerName, resolveBackbone } from '../../src/backbones';
import { selectTrainingBackend } from '../../src/backend';
import { emscripten } from '../../src/kernels/wasm-heap';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/adamw';
import { crossEntropy } from '../../src/train/loss';

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

/** One training step exactly as the training loop takes it: variableGrads of the loss, then AdamW. */
function trainer(backbone: string, inputSize: number, batch: number): Trainer {
  const model = buildBackbone(backbone, { inputSize, numClasses: CLASSES, seed: 5 });
  const head = model.getLayer(headLayerName(resolveBackbone(backbone))).output as tf.SymbolicTensor;
  const logitsModel = tf.model({ inputs: model.inputs, outputs: head });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const keys = variables.map((_, i) => i);
  const optimizer = new AdamW({ ...DEFAULT_ADAMW, clipNorm: null });
  const xs = tf.randomNormal([batch, inputSize, inputSize, 3], 0, 1, 'float32', 21);
  const labels = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % CLASSES),
    'int32',
  );
  return {
    step() {
      const { value, grads } = tf.variableGrads(
        () =>
          crossEntropy(logitsModel.apply(xs, { training: true }) as tf.Tensor2D, labels, {
            labelSmoothing: 0,
            classWeights: null,
          }),
        variables,
      );
      optimizer.apply(
        variables,
        keys,
        variables.map((v) => grads[v.name]),
        { lr: LEARNING_RATE, beta1: 0.9 },
      );
      const loss = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    },
    dispose() {
      optimizer.dispose();
      tf.dispose([xs, labels]);
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
