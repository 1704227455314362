/**
 * The allow-list of a version's report files that the service serves read-only (GET
 * /models/{name}/versions/{version}/report/{file}): plain names, no folders, no dots besides the
 * one extension, and only the kinds the training job writes (charts, markdown, JSON, JSON lines).
 * Anything else is refused before the file system is touched, so no name can reach outside the
 * version's report folder.
 */

/** Content type of each served extension. */
export const REPORT_CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  svg: 'image/svg+xml',
  png: 'image/png',
  md: 'text/markdown; charset=utf-8',
  json: 'application/json; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
});

/** A lowercase stem (letters, digits, dash, underscore; at most 64 characters) and one extension. */
const REPORT_FILE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}\.([a-z]{2,5})$/;

/**
 * The content type `file` is served as, or null when the name is not on the allow-list.
 *
 * @example reportContentType('curves.svg') // 'image/svg+xml'
 * @example reportContentType('../metadata.json') // null
 */
export function reportContentType(file: string): string | null {
  const match = REPORT_FILE_NAME.exec(file);
  if (!match) return null;
  return Object.hasOwn(REPORT_CONTENT_TYPES, match[1]) ? REPORT_CONTENT_TYPES[match[1]] : null;
}

/**
 * Headers that keep a served report file inert: an SVG opened on its own runs no script and loads
 * nothing (sandboxed, nothing allowed but its inline styles), and no type is sniffed.
 */
export const REPORT_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
  'x-content-type-options': 'nosniff',
  // Same-origin pages (the demo) fetch these; other sites may not embed them.
  'cross-origin-resource-policy': 'same-origin',
});
