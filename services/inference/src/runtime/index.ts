/** The engines that run a model version: the InferenceRuntime contract, its two implementations, the factory. */
export * from './types';
export { createRuntime } from './factory';
export { checkBatch, InvalidBatchError, modelShape, type ModelShape } from './input-shape';
export { OnnxRuntime, onnxSessionOptions } from './onnx';
export { TfjsRuntime } from './tfjs';
