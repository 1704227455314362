/**
 * The TensorFlow.js backend choice, shared by training and the service's tfjs runtime
 * (DESIGN §6): native `tensorflow` (tfjs-node-gpu, then tfjs-node) when one is installed,
 * else `wasm`, else `cpu`. Callers pass an explicit choice (TFJS_BACKEND, read by their config).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

import { BACKEND_NAMES, type BackendName } from '../backend-names';

/** Native bindings, most capable first. Each registers the `tensorflow` backend when required. */
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

export interface BackendChoice {
  name: BackendName;
  /** The native package that provided `tensorflow`, when that is the choice. */
  nativePackage?: string;
  /** Why better backends were passed over, for the start-up log. */
  skipped: string[];
}

function loadNative(): { nativePackage?: string; skipped: string[] } {
  const skipped: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      // Optional dependencies: absent on most machines (their libtensorflow download is gone upstream).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(pkg);
      return { nativePackage: pkg, skipped };
    } catch (error) {
      skipped.push(`${pkg}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return { skipped };
}

async function trySet(name: BackendName): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Activates the best available backend, or exactly `preferred` when given.
 *
 * @example const { name } = await selectBackend(); // 'wasm' on a machine without tfjs-node
 * @throws Error when `preferred` is given and cannot be activated.
 */
export async function selectBackend(preferred?: BackendName): Promise<BackendChoice> {
  const candidates: BackendName[] = preferred ? [preferred] : [...BACKEND_NAMES];
  const skipped: string[] = [];
  let nativePackage: string | undefined;
  for (const name of candidates) {
    if (name === 'tensorflow') {
      const native = loadNative();
      skipped.push(...native.skipped);
      if (!native.nativePackage) continue;
      nativePackage = native.nativePackage;
    }
    if (await trySet(name)) {
      await tf.ready();
      return nativePackage && name === 'tensorflow' ? { name, nativePackage, skipped } : { name, skipped };
    }
    skipped.push(`${name}: could not be initialised`);
  }
  throw new Error(`TensorFlow.js backend ${preferred ?? 'selection'} failed: ${skipped.join('; ')}`);
}
