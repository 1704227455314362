/**
 * A version's report files (written by the training job into its report/ folder, served read-only
 * by GET /models/{name}/versions/{version}/report/{file}): which exist, where they are, and the
 * epoch log parsed. Files are fetched through the API client (so an API key is sent) and shown
 * through blob: URLs, which the owner revokes when it re-renders.
 */

/** @typedef {import('./types.js').ModelMetadata} ModelMetadata */
/** @typedef {import('./types.js').EpochRecord} EpochRecord */

const REPORT_PREFIX = 'report/';

/**
 * @param {string} name
 * @param {number} version
 * @param {string} file
 * @example reportUrl('resnet152', 3, 'curves.svg') // '/models/resnet152/versions/3/report/curves.svg'
 */
export function reportUrl(name, version, file) {
  return `/models/${encodeURIComponent(name)}/versions/${version}/report/${encodeURIComponent(file)}`;
}

/**
 * The report files a version's metadata lists (its artifacts under report/), by name.
 *
 * @param {ModelMetadata} metadata
 * @returns {{ file: string, bytes: number }[]}
 */
export function reportFiles(metadata) {
  return metadata.artifacts
    .filter((a) => a.path.startsWith(REPORT_PREFIX) && !a.path.slice(REPORT_PREFIX.length).includes('/'))
    .map((a) => ({ file: a.path.slice(REPORT_PREFIX.length), bytes: a.bytes }))
    .sort((a, b) => a.file.localeCompare(b.file));
}

/**
 * The first of `candidates` the version has.
 *
 * @param {ModelMetadata} metadata
 * @param {string[]} candidates
 * @returns {string | null}
 */
export function firstReportFile(metadata, candidates) {
  const names = new Set(reportFiles(metadata).map((f) => f.file));
  return candidates.find((c) => names.has(c)) ?? null;
}

/**
 * Parses epochs.jsonl (one JSON object per line); lines that are not epoch records are skipped.
 *
 * @param {string} text
 * @returns {EpochRecord[]}
 */
export function parseEpochLog(text) {
  /** @type {EpochRecord[]} */
  const records = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const record = JSON.parse(line);
      if (record && typeof record.epoch === 'number' && typeof record.val_accuracy === 'number')
        records.push(record);
    } catch {
      // A torn last line of a log being written: skipped.
    }
  }
  return records;
}

/** blob: URLs made for one rendering, revoked together. */
export class BlobUrls {
  constructor() {
    /** @type {string[]} */
    this.urls = [];
  }

  /** @param {Blob} blob */
  create(blob) {
    const url = URL.createObjectURL(blob);
    this.urls.push(url);
    return url;
  }

  revokeAll() {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = [];
  }
}
