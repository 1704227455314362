/**
 * `--model NAME[@VERSION]`: which registry model (and optionally which version) to evaluate.
 */

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
