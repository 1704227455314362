/**
 * A published version with a report/ folder, for the report route's tests: the template's `tiny`
 * model published again (atomically, through @fer/shared's publish, as training does) with small
 * report files written here, so its metadata.json lists them among its artifacts.
 */
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { REPORT_DIR } from '@fer/shared';
import { publishVersionFolder, removeDir, TEST_MODEL, testModels } from '../helpers/test-models';

/** The report files of the fixture, by name. */
export async function reportFiles(): Promise<Record<string, Buffer>> {
  return {
    'curves.svg': Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><path d="M0 20L40 0" stroke="black"/></svg>\n',
    ),
    'curves.png': await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer(),
    'report.md': Buffer.from('# tiny, a fixture\n\nTest accuracy **50.0%**.\n'),
    'metrics.json': Buffer.from('{ "accuracy": 0.5 }\n'),
    'epochs.jsonl': Buffer.from('{"epoch":1,"val_accuracy":0.5}\n{"epoch":2,"val_accuracy":0.5}\n'),
  };
}

/**
 * Publishes `tiny` with report files into `registry` and returns the new version number.
 *
 * @example const version = await publishWithReport(registry); // 2 over the template's v1
 */
export async function publishWithReport(registry: string): Promise<number> {
  const source = path.join((await testModels()).registry, TEST_MODEL, '1');
  const staging = await mkdtemp(path.join(os.tmpdir(), 'fer-report-fixture-'));
  try {
    await cp(source, staging, { recursive: true });
    await mkdir(path.join(staging, REPORT_DIR));
    for (const [file, bytes] of Object.entries(await reportFiles()))
      await writeFile(path.join(staging, REPORT_DIR, file), bytes);
    return await publishVersionFolder(registry, staging);
  } finally {
    await removeDir(staging);
  }
}
