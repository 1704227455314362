/**
 * TF.js models as a folder on disk: `model.json` plus binary weight shards, the layout of a
 * version's `tfjs/` folder (DESIGN §3). tfjs-node's `file://` handler is not available (tfjs-node
 * does not install here), so these IOHandlers do the same job with node:fs. Training saves with
 * them, the service's tfjs runtime and further training load with them.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const MODEL_JSON_FILE = 'model.json';
/** The shard size the TF.js converter uses: small enough for any fetch, few enough files. */
export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

export interface SaveFolderOptions {
  /** Largest weight file in bytes; weights may span shards, loaders concatenate them. */
  shardBytes?: number;
}

/** `group1-shard1of3.bin`, the TF.js converter's naming. */
function shardName(index: number, count: number): string {
  return `group1-shard${index + 1}of${count}.bin`;
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

/**
 * The model.json object for saved artifacts. tfjs-core has this as getModelJSONForModelArtifacts
 * but does not export it from `tf.io` in 4.22, so it is rebuilt here field for field.
 */
function modelJsonFor(
  artifacts: tf.io.ModelArtifacts,
  manifest: tf.io.WeightsManifestConfig,
): tf.io.ModelJSON {
  const { modelTopology, format, generatedBy, convertedBy, trainingConfig, signature, userDefinedMetadata } =
    artifacts;
  if (modelTopology === undefined || modelTopology instanceof ArrayBuffer) {
    throw new Error('folderSaveHandler saves JSON model topologies only (LayersModel, GraphModel JSON)');
  }
  const json: tf.io.ModelJSON = {
    modelTopology,
    format,
    generatedBy,
    convertedBy,
    weightsManifest: manifest,
  };
  if (trainingConfig !== undefined) json.trainingConfig = trainingConfig;
  if (signature !== undefined) json.signature = signature;
  if (userDefinedMetadata !== undefined) json.userDefinedMetadata = userDefinedMetadata;
  if (artifacts.modelInitializer !== undefined) json.modelInitializer = artifacts.modelInitializer;
  if (artifacts.initializerSignature !== undefined)
    json.initializerSignature = artifacts.initializerSignature;
  return json;
}

/**
 * A save handler writing `model.json` and its weight shards into `dir` (created if needed).
 *
 * @example await model.save(folderSaveHandler('out/tfjs'));
 */
export function folderSaveHandler(dir: string, options: SaveFolderOptions = {}): tf.io.IOHandler {
  const shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES;
  if (!Number.isInteger(shardBytes) || shardBytes < 1) {
    throw new RangeError(`shardBytes must be a positive integer, got ${shardBytes}`);
  }
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const topology = modelJsonFor(artifacts, []); // before any write: refuses binary topologies
      await mkdir(dir, { recursive: true });
      const bytes = toBytes(artifacts.weightData);
      const count = Math.max(1, Math.ceil(bytes.byteLength / shardBytes));
      const paths: string[] = [];
      for (let i = 0; i < count; i++) {
        const name = shardName(i, count);
        paths.push(name);
        await writeFile(path.join(dir, name), bytes.subarray(i * shardBytes, (i + 1) * shardBytes));
      }
      const manifest: tf.io.WeightsManifestConfig = [{ paths, weights: artifacts.weightSpecs ?? [] }];
      const modelJson = { ...topology, weightsManifest: manifest };
      // model.json last: a folder with a model.json has all the shards it lists.
      await writeFile(path.join(dir, MODEL_JSON_FILE), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/** A shard path from model.json, resolved inside `dir`; anything escaping it is refused. */
function shardPath(dir: string, relative: string): string {
  const full = path.resolve(dir, relative);
  const inside = path.relative(path.resolve(dir), full);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    throw new Error(`${MODEL_JSON_FILE} in ${dir} lists a weight file outside its folder: "${relative}"`);
  }
  return full;
}

/** Bytes per value of the dtypes TF.js stores unquantized. */
const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/** Bytes the manifest's weights take; null when that cannot be known (quantized or string weights). */
function expectedWeightBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const spec of specs) {
    const bytesPerValue = DTYPE_BYTES[spec.dtype];
    if (spec.quantization || bytesPerValue === undefined) return null;
    total += spec.shape.reduce((a, b) => a * b, 1) * bytesPerValue;
  }
  return total;
}

/**
 * A load handler reading `model.json` and the weight shards it lists from `dir`.
 *
 * @example const model = await tf.loadLayersModel(folderLoadHandler('models/resnet152/3/tfjs'));
 */
export function folderLoadHandler(dir: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonPath = path.join(dir, MODEL_JSON_FILE);
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(await readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
      } catch (error) {
        throw new Error(`cannot read the TF.js model ${jsonPath}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const relative of group.paths) {
            const bytes = await readFile(shardPath(dir, relative));
            // Node may hand out a slice of a shared pool: copy into an ArrayBuffer of its own.
            buffers.push(
              bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
            );
          }
        }
        const specs = tf.io.getWeightSpecs(manifest);
        const expected = expectedWeightBytes(specs);
        const actual = buffers.reduce((sum, b) => sum + b.byteLength, 0);
        if (expected !== null && expected !== actual) {
          throw new Error(
            `the weight files in ${dir} hold ${actual} bytes, ${MODEL_JSON_FILE} lists ${expected}`,
          );
        }
        return [specs, buffers];
      });
    },
  };
}

/**
 * Saves a LayersModel into `dir` as model.json + weight shards.
 *
 * @example await saveLayersModel(model, path.join(staging, TFJS_DIR));
 */
export async function saveLayersModel(
  model: tf.LayersModel,
  dir: string,
  options: SaveFolderOptions = {},
): Promise<tf.io.SaveResult> {
  return model.save(folderSaveHandler(dir, options));
}

/**
 * Loads a LayersModel saved by {@link saveLayersModel} (or by the TF.js converter) from `dir`.
 *
 * @example const model = await loadLayersModel(path.join(versionDir, TFJS_DIR));
 */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(folderLoadHandler(dir));
}
