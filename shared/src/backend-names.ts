/**
 * Names of the TensorFlow.js backends, apart from the selection code so that configuration
 * schemas can name them without loading TensorFlow.js (see ./tfjs/backend.ts).
 */
export const BACKEND_NAMES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
