/**
 * How the jobs name a published model on the command line: `NAME[@VERSION]` inside a registry the
 * job already knows (`npm run evaluate --model`), or `REGISTRY/NAME[@VERSION]` (ensemble members,
 * `--teacher`, `npm run calibrate --model`).
 */
import path from 'node:path';

export interface ModelRef {
  name: string;
  /** Absent: the highest ready version. */
  version?: number;
}

/**
 * @example parseModelRef('resnet152@3') // { name: 'resnet152', version: 3 }
 * @example parseModelRef('resnet152') // { name: 'resnet152' }
 * @throws Error for an empty name or a version that is not a positive integer.
 */
export function parseModelRef(text: string): ModelRef {
  const at = text.lastIndexOf('@');
  const name = (at < 0 ? text : text.slice(0, at)).trim();
  if (name === '') throw new Error(`--model "${text}": expected NAME or NAME@VERSION`);
  if (at < 0) return { name };
  const raw = text.slice(at + 1).trim();
  const version = Number(raw);
  if (!/^[1-9][0-9]*$/.test(raw) || !Number.isSafeInteger(version)) {
    throw new Error(`--model "${text}": the version after @ must be a positive integer`);
  }
  return { name, version };
}

/** A model in a registry folder of its own. */
export interface RegistryModelRef extends ModelRef {
  registry: string;
}

/**
 * `models/resnet-small@1` -> registry `models`, model `resnet-small`, version 1.
 *
 * @example parseRegistryModelRef('artifacts/members/resnet-small-s7@1', '/repo') // { registry: '/repo/artifacts/members', name: 'resnet-small-s7', version: 1 }
 */
export function parseRegistryModelRef(text: string, cwd: string): RegistryModelRef {
  if (!text.includes('/'))
    throw new Error(`--member "${text}": expected REGISTRY/NAME[@VERSION], e.g. models/resnet-small@1`);
  return { registry: path.resolve(cwd, path.dirname(text)), ...parseModelRef(path.basename(text)) };
}
