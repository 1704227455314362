/**
 * The shapes of the API's answers the page reads (openapi.yaml is the contract), as JSDoc types
 * for the type check of these scripts. No code.
 *
 * @typedef {{ code: string, message: string }} ApiErrorBody
 * @typedef {{ left: number, top: number, width: number, height: number }} Box
 * @typedef {{ x: number, y: number }} Point
 * @typedef {{ box: Box, detection_score: number | null, landmarks?: Record<string, Point> | null, label: string, probabilities: Record<string, number> }} Face
 * @typedef {{ decode: number, detect: number, preprocess: number, queue: number, inference: number, total: number }} Timings
 * @typedef {{
 *   model: { name: string, version: number },
 *   image: { width: number, height: number, format: string },
 *   faces: Face[],
 *   timings_ms: Timings,
 * }} PredictResponse
 * @typedef {{ accuracy: number, macro_f1: number, samples: number, split: string }} MetricsSummary
 * @typedef {{ family: string, config: string, parameters: number }} Architecture
 * @typedef {'loading' | 'ready' | 'failed' | 'not_loaded'} VersionStatus
 * @typedef {{
 *   version: number,
 *   status: VersionStatus,
 *   default: boolean,
 *   error: string | null,
 *   created_at: string | null,
 *   input_size: number | null,
 *   architecture: Architecture | null,
 *   metrics: MetricsSummary | null,
 * }} VersionSummary
 * @typedef {{ name: string, default_version: number | null, versions: VersionSummary[] }} ModelSummary
 * @typedef {{ default_model: string | null, models: ModelSummary[] }} ModelList
 * @typedef {{ precision: number, recall: number, f1: number, support: number }} ClassMetrics
 * @typedef {{
 *   accuracy: number,
 *   macro_f1: number,
 *   per_class: Record<string, ClassMetrics>,
 *   confusion_matrix: number[][],
 *   samples: number,
 *   split: string,
 * }} Metrics
 * @typedef {{ path: string, sha256: string, bytes: number }} Artifact
 * @typedef {{
 *   dataset: { format: string, fingerprint: string, counts: Record<string, Record<string, number>> },
 *   epochs: number,
 *   best_epoch?: number,
 *   batch_size: number,
 *   optimizer: Record<string, unknown>,
 *   lr_schedule: Record<string, unknown>,
 *   seed: number,
 *   backend: string,
 *   duration_s: number,
 *   pretrained: string | null,
 *   command?: string,
 * }} TrainingInfo
 * @typedef {{
 *   name: string,
 *   version: number,
 *   created_at: string,
 *   classes: string[],
 *   preprocessing: { input_size: number, face_margin: number, color: string, [key: string]: unknown },
 *   architecture: Architecture,
 *   metrics: Metrics | null,
 *   training: TrainingInfo | null,
 *   export: { onnx_opset: number, source: string, float16?: boolean } | null,
 *   artifacts: Artifact[],
 *   code_revision: string | null,
 *   ensemble?: { dataset?: { format: string, fingerprint: string }, [key: string]: unknown },
 * }} ModelMetadata
 * @typedef {VersionSummary & { name: string, load_ms: number | null, metadata: ModelMetadata | null }} VersionDetail
 * @typedef {{
 *   epoch: number, phase: string, lr: number, train_loss: number, train_accuracy: number,
 *   val_loss: number, val_accuracy: number, val_macro_f1: number, duration_s: number, best: boolean,
 * }} EpochRecord
 */

export {};
