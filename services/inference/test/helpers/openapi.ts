/**
 * Checks HTTP responses against the hand-written openapi.yaml: the path and method must be
 * documented, the status must be one of the operation's responses, the media type one of its
 * contents, required headers present, and the JSON body valid against the schema (ajv, JSON Schema
 * 2020-12 as OpenAPI 3.1 uses). Any mismatch throws, failing the test that made the request.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { REPO_ROOT } from './test-models';

interface Operation {
  responses: Record<string, ResponseObject>;
}
interface ResponseObject {
  $ref?: string;
  headers?: Record<string, { $ref?: string; required?: boolean }>;
  content?: Record<string, { schema?: unknown }>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, unknown>;
    responses: Record<string, ResponseObject>;
    headers: Record<string, { required?: boolean }>;
  };
}

export interface CheckedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or text for other media types. */
  body: unknown;
}

const SPEC_ID = 'https://fer.local/openapi';
const spec = parse(readFileSync(path.join(REPO_ROOT, 'openapi.yaml'), 'utf8')) as Spec;

/** Rewrites '#/components/schemas/X' into references ajv resolves against the registered spec. */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
          ? `${SPEC_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`
          : rewriteRefs(v),
      ]),
    );
  }
  return node;
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
ajv.addSchema({ $id: SPEC_ID, $defs: rewriteRefs(spec.components.schemas) as Record<string, object> });
const compiled = new Map<unknown, ValidateFunction>();

function templateOf(urlPath: string): string | null {
  if (spec.paths[urlPath]) return urlPath;
  for (const template of Object.keys(spec.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    if (pattern.test(urlPath)) return template;
  }
  return null;
}

function resolveResponse(response: ResponseObject): ResponseObject {
  if (!response.$ref) return response;
  return spec.components.responses[response.$ref.split('/').pop() as string];
}

function fail(where: string, problem: string): never {
  throw new Error(`Response of ${where} does not match openapi.yaml: ${problem}`);
}

/**
 * Throws unless `response` to `method url` is what openapi.yaml documents. Undocumented paths
 * (a 404 for an unknown route) must still carry the API's error body.
 *
 * @example checkResponse('POST', '/predict?crop=none', { status: 200, headers, body })
 */
export function checkResponse(method: string, url: string, response: CheckedResponse): void {
  const urlPath = url.split('?')[0];
  const where = `${method} ${url} (${response.status})`;
  const template = templateOf(urlPath);
  let responseObject: ResponseObject;
  if (template === null) {
    if (response.status !== 404) fail(where, `path ${urlPath} is not documented`);
    responseObject = spec.components.responses.ModelNotFound; // same shape: the error body
  } else {
    const operation = spec.paths[template][method.toLowerCase()];
    if (!operation) {
      if (response.status !== 404) fail(where, `method ${method} is not documented for ${template}`);
      responseObject = spec.components.responses.ModelNotFound;
    } else {
      const documented = operation.responses[String(response.status)] ?? operation.responses.default;
      if (!documented) fail(where, `status ${response.status} is not documented`);
      responseObject = resolveResponse(documented);
    }
  }
  for (const [name, header] of Object.entries(responseObject.headers ?? {})) {
    const required =
      header.required ??
      (header.$ref ? spec.components.headers[header.$ref.split('/').pop() as string].required : false);
    if (required && response.headers[name.toLowerCase()] === undefined)
      fail(where, `header ${name} is missing`);
  }
  if (!responseObject.content) return;
  const mediaType = String(response.headers['content-type'] ?? '')
    .split(';')[0]
    .trim();
  const content = responseObject.content[mediaType];
  if (!content)
    fail(where, `media type "${mediaType}" is not one of ${Object.keys(responseObject.content).join(', ')}`);
  if (!content.schema) return;
  let validate = compiled.get(content.schema);
  if (!validate) {
    validate = ajv.compile(rewriteRefs(content.schema) as object);
    compiled.set(content.schema, validate);
  }
  if (!validate(response.body)) {
    fail(
      where,
      `${ajv.errorsText(validate.errors, { separator: '; ' })}\nbody: ${JSON.stringify(response.body).slice(0, 2000)}`,
    );
  }
}
