/**
 * What a dataset reader produces: every sample of every split with its class, before any
 * pixel is decoded. Readers differ by layout; everything after them sees this one shape.
 */

export const DATASET_FORMATS = ['kaggle', 'msambare', 'fer2013-csv', 'class-folders'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Where a sample's pixels come from: an image file, or 48x48 pixels already in memory (CSV). */
export type SampleSource =
  { kind: 'file'; path: string } | { kind: 'pixels'; width: number; height: number; data: Uint8Array };

export interface Sample {
  /** Stable identity inside the dataset (relative path or CSV row), used for sorting and hashing. */
  id: string;
  /** Index into CLASSES. */
  label: number;
  source: SampleSource;
}

/** The splits a dataset has, by the dataset's own names, and which of them serve as train and test. */
export interface DatasetIndex {
  format: DatasetFormat;
  root: string;
  /** Samples of each split, sorted by id. */
  splits: Record<string, Sample[]>;
  /** Name of the split training draws from (training and validation). */
  trainSplit: string;
  /** Name of the held-out split used once, for the final report. */
  testSplit: string;
  /** Samples left out on purpose, by split and dataset label (e.g. Disgust). */
  ignored: Record<string, Record<string, number>>;
}
