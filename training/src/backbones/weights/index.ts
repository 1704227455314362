/** torchvision weight import: file readers, the name mapping, and loading into a built backbone. */
export * from './errors';
export * from './import-weights';
export { normalizeTorchKey, planWeightImport } from './name-mapping';
export type { HeadPolicy, ImportPlan, ModelWeightSpec, TensorSpec, WeightAssignment } from './name-mapping';
export { readSafetensors } from './safetensors';
export type { StateDict, TensorDType, TensorEntry } from './state-dict';
export { readTorchStateDict } from './torch-file';
