/**
 * What the train CLI hands a training job (logger, progress, how to print, the backend and the
 * command it was run with) and what the job hands back: the published version, also recorded in
 * the run folder (run-folder.ts) so a resumed run that already published returns it again.
 */
import type { ModelMetrics } from '@fer/shared';
import type { Logger } from './logger';
import type { ProgressFactory } from './progress';

export interface JobContext {
  log: Logger;
  progress: ProgressFactory;
  /** Human-readable text (count tables, final metrics); the CLI prints it on stderr. */
  print: (text: string) => void;
  /** The TF.js backend in use, as selected by the caller. */
  backend: string;
  command: string | null;
  codeRevision: string | null;
  signal?: AbortSignal;
}

export interface TrainResult {
  name: string;
  version: number;
  dir: string;
  backbone: string;
  parameters: number;
  metrics: ModelMetrics;
  epochsRun: number;
  bestEpoch: number | null;
  trainingSeconds: number;
  trainImagesPerS: number;
  modelBytes: number;
  latencyMsPerImage: number;
  runDir: string;
}
