/**
 * What every version's report shows about its test split, whichever job made it: the confusion
 * matrix, the reliability diagram (before and after the temperature, when there is one) and the
 * calibration figures, written beside report.md in the staged report/ folder.
 */
import {
  CLASSES,
  NUM_CLASSES,
  type CalibrationInfo,
  type CalibrationMetrics,
  type ModelMetrics,
} from '@fer/shared';
import { calibrationMetrics } from '../metrics/calibration';
import type { CalibrationFacts } from '../report/calibration-section';
import { confusionSpec } from '../report/confusion-chart';
import { calibrationSeries, reliabilitySpec } from '../report/reliability-chart';
import { writeChart } from '../report/render-chart';

/** The published model's answers on the test split. */
export interface TestAnswers {
  /** The split's name in the dataset. */
  split: string;
  labels: Int32Array;
  /** Row-major [labels.length, classes], as published (temperature included). */
  probabilities: Float32Array;
  metrics: ModelMetrics;
  /** The same images before the temperature; null for a version published without one. */
  before: Float32Array | null;
}

/** The temperature's fit: its metadata block and its figures on the validation images. */
export interface CalibrationFit {
  info: CalibrationInfo;
  validation: { before: CalibrationMetrics; after: CalibrationMetrics };
}

export interface TestReport {
  /** File name of the confusion matrix (SVG) beside report.md. */
  confusionChart: string;
  calibration: CalibrationFacts;
}

/**
 * Writes the test split's charts into `reportDir` (titled "<label> on <split>") and returns their
 * names with the calibration facts of report.md.
 *
 * @example const { confusionChart, calibration } = await writeTestReport(staged.reportDir, 'resnet152', test, fit);
 */
export async function writeTestReport(
  reportDir: string,
  label: string,
  test: TestAnswers,
  fit: CalibrationFit | null,
): Promise<TestReport> {
  const title = `${label} on ${test.split}`;
  const [confusionChart] = await writeChart(confusionSpec(test.metrics, title), reportDir, 'confusion');
  const [reliabilityChart] = await writeChart(
    reliabilitySpec(calibrationSeries(test.labels, test.probabilities, test.before, NUM_CLASSES), title),
    reportDir,
    'reliability',
  );
  return {
    confusionChart,
    calibration: {
      info: fit?.info ?? null,
      validation: fit?.validation ?? null,
      test: {
        before: test.before ? calibrationMetrics(test.before, test.labels, CLASSES) : null,
        after: test.metrics.calibration!,
      },
      chart: reliabilityChart,
    },
  };
}
