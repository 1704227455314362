/**
 * `npm run -s -w training make-model -- --config resnet-tiny --input-size 32 --registry DIR --name NAME`
 *
 * Publishes an untrained backbone (seeded random weights) into a registry as a complete version:
 * tfjs/, model.onnx and metadata.json. Integration tests of the service fill temporary registries
 * with it (as a subprocess: the service never imports training) and `npm run bench:runtime` uses it
 * for full-size networks. Prints one JSON line describing the published version on stdout.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import {
  BACKEND_NAMES,
  type BackendName,
  CLASSES,
  defaultPreprocessSpec,
  isValidModelName,
  NUM_CLASSES,
  ONNX_FILE,
  publish,
  TFJS_DIR,
} from '@fer/shared';
import { saveLayersModel, selectBackend } from '@fer/shared/tfjs';
import { BACKBONE_NAMES, buildBackbone, countParameters, resolveBackbone } from '../backbones';
import { calibrateBatchNorm } from '../export/calibrate-batch-norm';
import { type OnnxExportInfo, writeOnnxModel } from '../export/onnx';

/** Images in the random batch that batch-norm statistics are calibrated on. */
const CALIBRATION_BATCH = 8;

export interface MakeModelOptions {
  /** A backbone name from BACKBONES, e.g. 'resnet-tiny' or 'resnet152'. */
  config: string;
  inputSize: number;
  registry: string;
  /** Registry model name; defaults to the config name. */
  name: string;
  seed: number;
  /** Calibrate batch-norm statistics on random input so outputs vary with the input (default true). */
  calibrate: boolean;
  backend?: BackendName;
  opset?: number;
}

export interface MadeModel {
  name: string;
  version: number;
  dir: string;
  config: string;
  input_size: number;
  parameters: number;
  export: OnnxExportInfo;
}

const USAGE = `usage: make-model --config NAME --input-size N --registry DIR [--name NAME] [--seed N]
                  [--uncalibrated] [--backend ${BACKEND_NAMES.join('|')}] [--opset N]
configs: ${BACKBONE_NAMES.join(', ')}`;

function integer(value: string | undefined, flag: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new Error(`${flag} is required\n${USAGE}`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`${flag} must be an integer, got "${value}"`);
  return n;
}

/**
 * Reads the command line (without `node script`) into options; throws with the usage on mistakes.
 *
 * @example parseMakeModelArgs(['--config', 'resnet-tiny', '--input-size', '32', '--registry', '/tmp/r'])
 */
export function parseMakeModelArgs(argv: readonly string[]): MakeModelOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string' },
      'input-size': { type: 'string' },
      registry: { type: 'string' },
      name: { type: 'string' },
      seed: { type: 'string' },
      uncalibrated: { type: 'boolean', default: false },
      backend: { type: 'string' },
      opset: { type: 'string' },
    },
    strict: true,
  });
  if (!values.config) throw new Error(`--config is required\n${USAGE}`);
  if (!values.registry) throw new Error(`--registry is required\n${USAGE}`);
  const config = resolveBackbone(values.config).name;
  const name = values.name ?? config;
  if (!isValidModelName(name)) throw new Error(`--name "${name}" is not a valid registry model name`);
  const backend = values.backend as BackendName | undefined;
  if (backend !== undefined && !BACKEND_NAMES.includes(backend)) {
    throw new Error(`--backend must be one of ${BACKEND_NAMES.join(', ')}, got "${backend}"`);
  }
  return {
    config,
    inputSize: integer(values['input-size'], '--input-size'),
    registry: path.resolve(values.registry),
    name,
    seed: integer(values.seed, '--seed', 0),
    calibrate: !values.uncalibrated,
    ...(backend ? { backend } : {}),
    ...(values.opset ? { opset: integer(values.opset, '--opset') } : {}),
  };
}

/** The checked-out commit, recorded as the version's code revision; null outside a git checkout. */
function codeRevision(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: __dirname, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/**
 * Builds, exports and publishes one random-weight version; the TF.js backend must be selected.
 *
 * @example const made = await makeModel({ config: 'resnet-tiny', inputSize: 32, registry, name: 'tiny', seed: 1, calibrate: true });
 */
export async function makeModel(options: MakeModelOptions): Promise<MadeModel> {
  const backbone = resolveBackbone(options.config);
  const model = buildBackbone(backbone, {
    inputSize: options.inputSize,
    numClasses: NUM_CLASSES,
    seed: options.seed,
  });
  const staging = await mkdtemp(path.join(os.tmpdir(), 'fer-make-model-'));
  try {
    if (options.calibrate) {
      const sample = tf.randomNormal(
        [CALIBRATION_BATCH, options.inputSize, options.inputSize, 3],
        0,
        1,
        'float32',
        options.seed,
      );
      calibrateBatchNorm(model, sample);
      sample.dispose();
    }
    await saveLayersModel(model, path.join(staging, TFJS_DIR));
    const onnx = await writeOnnxModel(model, path.join(staging, ONNX_FILE), { opset: options.opset });
    const parameters = countParameters(model);
    const published = await publish({
      root: options.registry,
      name: options.name,
      sourceDir: staging,
      metadata: {
        classes: [...CLASSES],
        preprocessing: defaultPreprocessSpec(options.inputSize),
        architecture: { family: backbone.family, config: backbone.name, parameters },
        metrics: null,
        training: null,
        export: onnx.export,
        code_revision: codeRevision(),
      },
    });
    return {
      name: options.name,
      version: published.version,
      dir: published.dir,
      config: backbone.name,
      input_size: options.inputSize,
      parameters,
      export: onnx.export,
    };
  } finally {
    model.dispose();
    await rm(staging, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseMakeModelArgs(process.argv.slice(2));
  const backend = await selectBackend(options.backend);
  const started = Date.now();
  const made = await makeModel(options);
  console.error(
    `published ${made.name} v${made.version} (${made.config}, input ${made.input_size}, backend ${backend.name}) ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)} s: ${made.dir}`,
  );
  console.log(JSON.stringify(made));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
