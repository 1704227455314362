/**
 * Names and paths of the registry directory (DESIGN §3): `<root>/<model>/<version>/...`.
 * Model names are restricted so a name can never address anything outside its folder.
 */
import path from 'node:path';

export const METADATA_FILE = 'metadata.json';
/** The version's ONNX model; its input and output: onnx-contract.ts. */
export const ONNX_FILE = 'model.onnx';
export const TFJS_DIR = 'tfjs';
export const REPORT_DIR = 'report';
/** Prefixes of hidden folders publish uses; readers ignore every name starting with a dot. */
export const STAGING_PREFIX = '.staging-';
export const CLAIM_PREFIX = '.claim-';

const MODEL_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const VERSION_DIR = /^[1-9][0-9]{0,8}$/;

/** True for names like "resnet152" or "resnet18-w32"; false for "..", "A", "a/b", "". */
export function isValidModelName(name: string): boolean {
  return MODEL_NAME.test(name) && !name.includes('..');
}

/** The version number a folder name stands for, or null when the folder is not a version. */
export function parseVersionDir(name: string): number | null {
  return VERSION_DIR.test(name) ? Number(name) : null;
}

export function modelDir(root: string, name: string): string {
  if (!isValidModelName(name)) throw new RangeError(`invalid model name "${name}"`);
  return path.join(root, name);
}

export function versionDir(root: string, name: string, version: number): string {
  if (!Number.isInteger(version) || version < 1) throw new RangeError(`invalid version ${version}`);
  return path.join(modelDir(root, name), String(version));
}
