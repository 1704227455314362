/** A complete, valid metadata draft for registry tests. */
import { CLASSES, defaultPreprocessSpec, type MetadataDraft } from '../../src';

export function metadataDraft(): MetadataDraft {
  return {
    classes: [...CLASSES],
    preprocessing: defaultPreprocessSpec(64),
    architecture: { family: 'resnet', config: 'resnet-test', parameters: 1234 },
    metrics: null,
    training: null,
    export: { onnx_opset: 13, source: 'test' },
    code_revision: null,
  };
}
