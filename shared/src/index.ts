/** @fer/shared: the contracts training and serving both import (TF.js parts: `@fer/shared/tfjs`). */
export * from './backend-names';
export * from './errors';
export * from './labels';
export * from './preprocess';
export * from './region-decode';
export * from './rotated-crop';
export * from './registry';
