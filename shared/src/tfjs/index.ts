/**
 * `@fer/shared/tfjs`: the TensorFlow.js parts of the contracts (backend selection, model folders).
 * A separate entry point, so that importing `@fer/shared` for labels, preprocessing or the registry
 * never loads TensorFlow.js and never touches its process-wide engine.
 */
export * from '../backend-names';
export * from './backend';
export * from './files';
export * from './horizontal-flip';
export * from './temperature';
