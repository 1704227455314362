/** The engines that run a model version: the InferenceRuntime contract, its two implementations, the in-process factory. */
export * from './types';
export { createInProcessRuntime } from './in-process';
export { checkBatch, InvalidBatchError, modelShape, type ModelShape } from './input-shape';
export { OnnxRuntime, onnxSessionOptions } from './onnx';
export { TfjsRuntime } from './tfjs';
