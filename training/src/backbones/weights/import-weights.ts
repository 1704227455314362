/**
 * Loads a torchvision state dict into a backbone built by this package: reads the file (torch zip,
 * legacy torch, or safetensors, recognised by content), plans the mapping (name-mapping.ts) and
 * writes each tensor into its layer variable in TF.js layout. File reading is the only I/O.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { WeightFileError } from './errors';
import { planWeightImport, type HeadPolicy, type ModelWeightSpec } from './name-mapping';
import { readSafetensors } from './safetensors';
import type { StateDict } from './state-dict';
import { readTorchStateDict } from './torch-file';

export interface ImportOptions {
  /** Default 'replace-on-mismatch': ImageNet weights into a model with a different class count. */
  head?: HeadPolicy;
  /** The classifier layer; default: the model's last Dense layer (`fc` / `classifier`). */
  headLayer?: string;
  /** Names the weights in error messages. */
  source?: string;
}

export interface ImportReport {
  /** Number of tensors written into the model. */
  loaded: number;
  /** Keys read but not loaded: BatchNorm batch counters and a replaced classifier. */
  ignoredKeys: string[];
  /** True when the model kept its own (fresh) classifier. */
  headReplaced: boolean;
}

/**
 * The model's weights as the mapping sees them: layer, class, role and TF.js shape.
 *
 * @example describeModelWeights(model)[0] // { layer: 'conv1', className: 'Conv2D', role: 'kernel', shape: [7, 7, 3, 64] }
 */
export function describeModelWeights(model: tf.LayersModel): ModelWeightSpec[] {
  return model.layers.flatMap((layer) =>
    layer.weights.map((weight) => ({
      layer: layer.name,
      className: layer.getClassName(),
      role: weight.originalName.slice(weight.originalName.lastIndexOf('/') + 1),
      shape: weight.shape as number[],
    })),
  );
}

function defaultHeadLayer(model: tf.LayersModel): string {
  const dense = model.layers.filter((layer) => layer.getClassName() === 'Dense');
  if (dense.length === 0) throw new Error(`Model "${model.name}" has no Dense classifier layer`);
  return dense[dense.length - 1].name;
}

/**
 * Writes a parsed state dict into `model`, or throws without changing anything when it does not fit.
 *
 * @example
 * const model = buildBackbone('resnet152', { inputSize: 224, numClasses: 6 });
 * const report = importStateDict(model, readStateDict(bytes, 'resnet152.pth')); // report.headReplaced === true
 * @throws WeightMismatchError listing every missing, unexpected or mis-shaped key.
 */
export function importStateDict(
  model: tf.LayersModel,
  dict: StateDict,
  options: ImportOptions = {},
): ImportReport {
  const specs = describeModelWeights(model);
  const plan = planWeightImport(
    specs,
    [...dict].map(([key, tensor]) => ({ key, shape: tensor.shape })),
    {
      headLayer: options.headLayer ?? defaultHeadLayer(model),
      head: options.head,
      context: `${options.source ?? 'The state dict'} does not fit model "${model.name}"`,
    },
  );
  const variables = model.layers.flatMap((layer) => layer.weights);
  // Decode everything first so that a bad tensor (e.g. truncated data) leaves the model untouched.
  const values = plan.assignments.map((assignment) => dict.get(assignment.key)?.values() as Float32Array);
  tf.tidy(() => {
    plan.assignments.forEach((assignment, i) => {
      let tensor = tf.tensor(values[i], [...assignment.torchShape], 'float32');
      if (assignment.permutation) tensor = tf.transpose(tensor, [...assignment.permutation]);
      variables[assignment.weightIndex].write(tensor);
    });
  });
  return { loaded: plan.assignments.length, ignoredKeys: plan.ignoredKeys, headReplaced: plan.headReplaced };
}

/**
 * Parses weight file bytes, recognising the format by content: safetensors, torch zip, legacy torch.
 *
 * @example const dict = readStateDict(await readFile('densenet161.pth'), 'densenet161.pth');
 * @throws WeightFileError naming what is wrong with the file.
 */
export function readStateDict(bytes: Uint8Array, source = 'weights'): StateDict {
  const looksLikeSafetensors =
    bytes.length >= 9 && bytes[8] === 0x7b /* '{' */ && bytes[6] === 0 && bytes[7] === 0;
  if (looksLikeSafetensors) return readSafetensors(bytes, source);
  if (bytes.length === 0) throw new WeightFileError(`${source}: the file is empty`);
  return readTorchStateDict(bytes, source);
}

/**
 * Reads `.pth`/`.pt`/`.safetensors` from disk and imports it into `model`.
 *
 * @example const report = await importWeightsFile(model, 'weights/resnet152-f82ba261.pth');
 */
export async function importWeightsFile(
  model: tf.LayersModel,
  file: string,
  options: Omit<ImportOptions, 'source'> = {},
): Promise<ImportReport> {
  const source = path.basename(file);
  const bytes = await readFile(file);
  return importStateDict(model, readStateDict(bytes, source), { ...options, source });
}
