/**
 * One wording for a refused request part, whoever checked it (a route's zod schema through Fastify,
 * or `parsePredictQuery` before an upload is read): each problem names its parameter, and unknown
 * parameters are listed, so a typo ("face=largest") reads as such.
 */

/** What the message needs of a zod issue (zod's own issues and Fastify's copies both fit). */
export interface ValidationIssue {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  /** The names an `unrecognized_keys` issue found. */
  keys?: readonly string[];
}

/** How each request part is named in the message. */
const PART_NAMES: Readonly<Record<string, string>> = {
  querystring: 'query',
  params: 'path',
  headers: 'headers',
  body: 'body',
};

/**
 * The message of a 400 for a request part whose checks failed.
 *
 * @example describeIssues('querystring', [{ code: 'unrecognized_keys', path: [], message: '', keys: ['face'] }])
 * // 'Invalid query: unknown parameter face'
 */
export function describeIssues(part: string, issues: readonly ValidationIssue[]): string {
  const problems = issues.map((issue) =>
    issue.code === 'unrecognized_keys' && issue.keys
      ? `unknown parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`
      : `${issue.path.map(String).join('.')}: ${issue.message}`,
  );
  return `Invalid ${PART_NAMES[part] ?? part}: ${problems.join('; ')}`;
}
