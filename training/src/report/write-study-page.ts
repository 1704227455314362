/**
 * Writes docs/study/ from a finished comparison folder (artifacts/comparisons/<time>/): the page,
 * its charts (SVG, rendered again from comparison.json so the page never points at a stale file)
 * and study.json for the demo page. The folder is replaced whole: charts of an earlier study with
 * more models do not linger.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { listModels, ONNX_FILE } from '@fer/shared';
import { comparisonCharts, type ComparisonFile } from './comparison';
import { renderSvg } from './render-chart';
import {
  publishedComparison,
  STUDY_DATA_FILE,
  STUDY_PAGE_FILE,
  studyPageMarkdown,
  withShipped,
  type StudyFile,
  type VersionDigest,
} from './study-page';

export class StudyPageError extends Error {
  override name = 'StudyPageError';
}

async function readComparison(dir: string): Promise<ComparisonFile> {
  const file = path.join(dir, 'comparison.json');
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null)
    throw new StudyPageError(
      `${file} is missing: pass the folder that \`npm run train -- --backbone a,b\` printed (artifacts/comparisons/<time>)`,
    );
  const parsed = JSON.parse(text) as Partial<ComparisonFile>;
  if (!parsed.context || !Array.isArray(parsed.rows) || parsed.rows.length < 2)
    throw new StudyPageError(`${file} is not a comparison of two or more models`);
  if (parsed.rows.some((r) => !Array.isArray(r.history) || !Array.isArray(r.confusion)))
    throw new StudyPageError(
      `${file} was written by an older npm run train (no curves or confusion matrices)`,
    );
  return parsed as ComparisonFile;
}

/** Every ready version of a registry with its model.onnx sha256 (as its metadata records it). */
async function digests(registry: string): Promise<VersionDigest[]> {
  return (await listModels(registry)).flatMap((model) =>
    model.versions.flatMap((v) =>
      v.status === 'ready'
        ? [
            {
              name: v.name,
              version: v.version,
              onnxSha256: v.metadata.artifacts.find((a) => a.path === ONNX_FILE)?.sha256 ?? null,
            },
          ]
        : [],
    ),
  );
}

export interface StudyRegistries {
  /** Where the study published its versions (the study command's `--registry`). */
  study: string;
  /** The registry the product ships (models/). */
  shipped: string;
}

/**
 * Renders `comparisonDir` into `outDir` and returns the files written.
 *
 * @example await writeStudyPage('artifacts/comparisons/2025-01-01T00-00-00-000Z', 'docs/study', 'artifacts/comparisons/2025-01-01T00-00-00-000Z', { study: 'artifacts/study', shipped: 'models' });
 * @throws StudyPageError when the folder holds no usable comparison.json.
 */
export async function writeStudyPage(
  comparisonDir: string,
  outDir: string,
  source: string,
  registries: StudyRegistries,
): Promise<string[]> {
  const published = publishedComparison(await readComparison(comparisonDir));
  const rows = withShipped(
    published.rows,
    await digests(registries.study),
    await digests(registries.shipped),
  );
  const comparison: StudyFile = { ...published, rows };
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, STUDY_PAGE_FILE), studyPageMarkdown(comparison, source));
  await writeFile(path.join(outDir, STUDY_DATA_FILE), `${JSON.stringify(comparison, null, 2)}\n`);
  for (const chart of comparisonCharts(comparison.rows, comparison.context.testSplit))
    await writeFile(path.join(outDir, `${chart.file}.svg`), await renderSvg(chart.spec));
  return (await readdir(outDir)).sort();
}
