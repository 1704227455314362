/**
 * The mechanical mapping from torchvision state-dict keys to our layers' weights, as a pure
 * function of names and shapes: `<layer>.weight` of a Conv2D is its kernel (OIHW -> HWIO),
 * of a Dense its kernel ([out, in] -> [in, out]); BatchNorm takes weight/bias/running_mean/
 * running_var and skips num_batches_tracked. Every key the model cannot take and every weight
 * the file does not provide is a problem named in the error, except the classifier when the
 * caller allows replacing it (transfer learning to a new class count).
 */
import { WeightMismatchError } from './errors';

/** One weight of one layer, in the order `layer.weights` lists them. */
export interface ModelWeightSpec {
  layer: string;
  /** tf.layers class name, e.g. 'Conv2D'. */
  className: string;
  /** The weight's own name in the layer: 'kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance'. */
  role: string;
  /** TF.js shape (HWIO for convolutions). */
  shape: readonly number[];
}

export interface TensorSpec {
  key: string;
  shape: readonly number[];
}

/**
 * What to do with the classifier (`fc` / `classifier`):
 * - 'load': it must be in the file with the model's shape;
 * - 'replace-on-mismatch': load it when shapes match, keep the model's fresh head when they do not
 *   (ImageNet's 1000 classes into a 6-class model); missing head keys are still an error;
 * - 'replace': always keep the fresh head, whatever the file holds for it.
 */
export type HeadPolicy = 'load' | 'replace-on-mismatch' | 'replace';

export interface ImportPlanOptions {
  /** The classifier layer's name. */
  headLayer: string;
  head?: HeadPolicy;
  /** Prefix of the error message, e.g. "resnet152.pth into resnet152". */
  context?: string;
}

export interface WeightAssignment {
  /** Index into the flat list of model weight specs. */
  weightIndex: number;
  layer: string;
  key: string;
  /** The torch tensor's shape (as stored in the file). */
  torchShape: readonly number[];
  /** tf.transpose permutation from the torch layout to ours, when they differ. */
  permutation?: readonly number[];
}

export interface ImportPlan {
  assignments: WeightAssignment[];
  /** Keys read but deliberately not loaded (BatchNorm num_batches_tracked, a replaced head). */
  ignoredKeys: string[];
  /** True when the model keeps its own classifier weights. */
  headReplaced: boolean;
}

interface Rule {
  suffix: string;
  permutation?: readonly number[];
}

/** Our (class, weight role) -> torch parameter suffix and layout change. */
const RULES: Readonly<Record<string, Readonly<Record<string, Rule>>>> = {
  Conv2D: { kernel: { suffix: 'weight', permutation: [2, 3, 1, 0] } },
  Dense: { kernel: { suffix: 'weight', permutation: [1, 0] }, bias: { suffix: 'bias' } },
  BatchNormalization: {
    gamma: { suffix: 'weight' },
    beta: { suffix: 'bias' },
    moving_mean: { suffix: 'running_mean' },
    moving_variance: { suffix: 'running_var' },
  },
};

/** BatchNorm's batch counter: torch-only bookkeeping with no TF.js counterpart. */
const IGNORED_BATCH_NORM_SUFFIX = 'num_batches_tracked';

/**
 * torchvision's 2017 DenseNet files name dense-layer modules `norm.1` rather than `norm1`;
 * torchvision renames them on load with this same pattern (models/densenet.py `_load_state_dict`).
 */
const LEGACY_DENSENET_KEY =
  /^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$/;

/**
 * Today's torchvision key for a key as it appears in a file.
 *
 * @example normalizeTorchKey('features.denseblock1.denselayer1.norm.1.weight') // 'features.denseblock1.denselayer1.norm1.weight'
 */
export function normalizeTorchKey(key: string): string {
  const match = LEGACY_DENSENET_KEY.exec(key);
  return match ? `${match[1]}${match[2]}` : key;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Decides which file tensor goes into which model weight, or throws listing every problem.
 *
 * @example
 * const plan = planWeightImport(specs, [...dict].map(([key, t]) => ({ key, shape: t.shape })), { headLayer: 'fc' });
 * @throws WeightMismatchError naming each missing key, unexpected key and shape mismatch.
 */
export function planWeightImport(
  model: readonly ModelWeightSpec[],
  tensors: readonly TensorSpec[],
  options: ImportPlanOptions,
): ImportPlan {
  const headPolicy = options.head ?? 'replace-on-mismatch';
  const problems: string[] = [];
  const expected = new Map<
    string,
    { weightIndex: number; layer: string; torchShape: number[]; rule: Rule }
  >();
  const batchNormLayers = new Set<string>();
  const layers = new Set<string>();

  model.forEach((spec, weightIndex) => {
    layers.add(spec.layer);
    const rule = RULES[spec.className]?.[spec.role];
    if (!rule) {
      problems.push(
        `layer "${spec.layer}" (${spec.className}) has a weight "${spec.role}" with no torch counterpart`,
      );
      return;
    }
    if (spec.className === 'BatchNormalization') batchNormLayers.add(spec.layer);
    // torch dimension perm[j] is our dimension j.
    const torchShape = new Array<number>(spec.shape.length);
    spec.shape.forEach((d, j) => (torchShape[rule.permutation ? rule.permutation[j] : j] = d));
    expected.set(`${spec.layer}.${rule.suffix}`, { weightIndex, layer: spec.layer, torchShape, rule });
  });

  const headKeys = [...expected.keys()].filter((key) => expected.get(key)?.layer === options.headLayer);
  const found = new Map<string, TensorSpec>();
  const ignoredKeys: string[] = [];
  for (const tensor of tensors) {
    const key = normalizeTorchKey(tensor.key);
    const shown = key === tensor.key ? `"${key}"` : `"${tensor.key}" (as "${key}")`;
    if (found.has(key)) {
      problems.push(`key ${shown} appears twice`);
      continue;
    }
    found.set(key, tensor);
    if (expected.has(key)) continue;
    const layer = key.slice(0, key.lastIndexOf('.'));
    if (key.endsWith(`.${IGNORED_BATCH_NORM_SUFFIX}`) && batchNormLayers.has(layer)) {
      ignoredKeys.push(tensor.key);
    } else if (headPolicy === 'replace' && layer === options.headLayer) {
      ignoredKeys.push(tensor.key);
    } else if (layers.has(layer)) {
      problems.push(`unexpected key ${shown}: layer "${layer}" has no such weight`);
    } else {
      problems.push(`unexpected key ${shown}: the model has no layer "${layer}"`);
    }
  }

  const headShapeDiffers = headKeys.some((key) => {
    const tensor = found.get(key);
    return tensor !== undefined && !sameShape(tensor.shape, expected.get(key)?.torchShape ?? []);
  });
  const headReplaced = headPolicy === 'replace' || (headPolicy === 'replace-on-mismatch' && headShapeDiffers);

  const assignments: WeightAssignment[] = [];
  for (const [key, target] of expected) {
    const tensor = found.get(key);
    if (headReplaced && target.layer === options.headLayer) {
      if (tensor) ignoredKeys.push(tensor.key);
      continue;
    }
    if (!tensor) {
      problems.push(
        `missing key "${key}" for layer "${target.layer}" (torch shape ${formatShape(target.torchShape)})`,
      );
    } else if (!sameShape(tensor.shape, target.torchShape)) {
      problems.push(
        `key "${tensor.key}" has shape ${formatShape(tensor.shape)} but layer "${target.layer}" needs ${formatShape(target.torchShape)}`,
      );
    } else {
      assignments.push({
        weightIndex: target.weightIndex,
        layer: target.layer,
        key: tensor.key,
        torchShape: tensor.shape,
        ...(target.rule.permutation ? { permutation: target.rule.permutation } : {}),
      });
    }
  }

  if (problems.length > 0) {
    throw new WeightMismatchError(problems, options.context ?? 'The state dict does not fit the model');
  }
  return { assignments, ignoredKeys, headReplaced };
}
