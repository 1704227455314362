/** @fer/shared: the contracts training and serving both import. */
export * from './errors';
export * from './labels';
export * from './preprocess';
export * from './registry';
export * from './tfjs-backend';
export * from './tfjs-files';
