/** The model registry: layout, metadata schema, reading and publishing. */
export * from './artifacts';
export * from './compatibility';
export * from './layout';
export * from './onnx-contract';
export * from './publish';
export * from './read';
export * from './schema';
export * from './triton';
