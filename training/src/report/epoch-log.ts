/**
 * The per-epoch record of a run, appended as one JSON line per epoch (`epochs.jsonl`) so a run
 * can be followed with `tail -f` and plotted afterwards; the same records drive the report. The
 * training loop writes it in the run folder, a version keeps a copy in its report/.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';

/** The log's name, in a run folder and in a version's report/. */
export const EPOCH_LOG_FILE = 'epochs.jsonl';

export interface EpochRecord {
  epoch: number;
  /** 'head' while the backbone is frozen (--freeze-epochs), then 'full'. */
  phase: 'head' | 'full';
  /** Learning rate at the epoch's last step. */
  lr: number;
  train_loss: number;
  train_accuracy: number;
  val_loss: number;
  val_accuracy: number;
  val_macro_f1: number;
  /** Training throughput of the epoch (forward + backward + update). */
  images_per_s: number;
  duration_s: number;
  /** Best validation accuracy so far. */
  best: boolean;
}

/**
 * Appends one record.
 *
 * @example await appendEpoch('run/epochs.jsonl', record);
 */
export async function appendEpoch(file: string, record: EpochRecord): Promise<void> {
  await appendFile(file, `${JSON.stringify(record)}\n`);
}

/** Rewrites the log with exactly `records` (a resumed run drops epochs after its checkpoint). */
export async function writeEpochLog(file: string, records: readonly EpochRecord[]): Promise<void> {
  await writeFile(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/**
 * The records of a log; none when the file is missing (a version published without one).
 *
 * @example const history = await readEpochLog(path.join(versionDir, REPORT_DIR, EPOCH_LOG_FILE));
 */
export async function readEpochLog(file: string): Promise<EpochRecord[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EpochRecord);
}
