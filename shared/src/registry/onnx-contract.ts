/**
 * The outside of every version's model.onnx (ONNX_FILE, DESIGN §3): the one interface the
 * training exporter writes, the backbones name their input and output layers after, and the
 * service, `npm run evaluate` and Triton's config.pbtxt read. Inside, a graph is free.
 *
 *   input  `input`          float32  NHWC [N, S, S, C]  S = preprocessing.input_size, C = preprocessing.channels
 *   output `probabilities`  float32       [N, classes]  each row sums to 1, in `classes` order
 */
import type { PreprocessSpec } from '../preprocess';

export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'probabilities';
/** Element type of the input and the output. */
export const ONNX_DTYPE = 'float32';
/** The input's axis order: batch, height, width, channels (the `layout` preprocess.ts writes). */
export const ONNX_INPUT_LAYOUT: PreprocessSpec['layout'] = 'NHWC';
/** The name of the input's and output's one dynamic dimension, the batch. */
export const ONNX_BATCH_DIM = 'N';
