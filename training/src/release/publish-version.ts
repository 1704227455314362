/**
 * The second half of every publish: report.md and metrics.json into the staged report/ folder,
 * the metadata every version records whichever job made it, and the atomic publish of the staged
 * folder (stage-version.ts) into the registry.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CLASSES,
  publish,
  type CalibrationInfo,
  type MetadataDraft,
  type ModelMetrics,
  type PreprocessSpec,
  type Published,
} from '@fer/shared';
import type { StagedVersion } from './stage-version';

/** What metadata.json holds for every version, trained, ensembled or calibrated. */
export interface VersionBasics {
  createdAt: string;
  spec: PreprocessSpec;
  /** On the test split, as published. */
  metrics: ModelMetrics;
  staged: Pick<StagedVersion, 'export'>;
  codeRevision: string | null;
  /** The temperature baked into the graph; null for a version published without one. */
  calibration: CalibrationInfo | null;
}

/** The fields of metadata.json that VersionBasics fills. */
type BasicFields =
  'created_at' | 'classes' | 'preprocessing' | 'metrics' | 'export' | 'code_revision' | 'calibration';

/**
 * The metadata draft of a version: what only its job knows (architecture, training or null,
 * ensemble...; a calibrated version starts from its source's draft), then the basics over it.
 *
 * @example versionMetadata(basics, { architecture, training: null, ensemble })
 */
export function versionMetadata(basics: VersionBasics, own: Omit<MetadataDraft, BasicFields>): MetadataDraft {
  return {
    ...own,
    created_at: basics.createdAt,
    classes: [...CLASSES],
    preprocessing: basics.spec,
    metrics: basics.metrics,
    export: basics.staged.export,
    code_revision: basics.codeRevision,
    ...(basics.calibration ? { calibration: basics.calibration } : {}),
  };
}

export interface VersionRelease {
  registry: string;
  name: string;
  staged: StagedVersion;
  /** report.md, written before publish assigns the version number. */
  report: string;
  /** The content of metrics.json. */
  metrics: unknown;
  metadata: MetadataDraft;
}

/**
 * Writes report.md and metrics.json into the staged report/ folder and publishes the folder as
 * the next version of `name`.
 *
 * @example const { version, dir } = await publishVersion({ registry, name, staged, report, metrics, metadata });
 * @throws IncompatibleVersionError when the name's versions read their input otherwise.
 */
export async function publishVersion(release: VersionRelease): Promise<Published> {
  const { staged } = release;
  await writeFile(path.join(staged.reportDir, 'report.md'), release.report);
  await writeFile(
    path.join(staged.reportDir, 'metrics.json'),
    `${JSON.stringify(release.metrics, null, 2)}\n`,
  );
  return publish({
    root: release.registry,
    name: release.name,
    sourceDir: staged.dir,
    metadata: release.metadata,
  });
}
