/**
 * Random /predict query strings for the fuzzer, built from parameters whose validity is known by
 * construction (valid and invalid values of every documented parameter, unknown and
 * prototype-named keys, repeated keys, keys without a value), plus the oracle: 400 when anything
 * is invalid, else 404 for a model or version the registry lacks, else 200.
 */
import fc from 'fast-check';

export interface QueryParam {
  key: string;
  /** null: the key alone, without "=" (read as an empty value). */
  value: string | null;
  /** What this parameter alone makes of the request. */
  effect: 'ok' | 'invalid' | 'not-found';
}

const param = (key: string, value: string | null, effect: QueryParam['effect']): QueryParam => ({
  key,
  value,
  effect,
});

/** A name the registry does not hold but the query schema accepts (1..64 characters). */
const unknownModel = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  .filter((name) => name !== 'tiny' && name.length <= 64);

function parameters(model: string): fc.Arbitrary<QueryParam> {
  const ok = (arbitrary: fc.Arbitrary<QueryParam>) => ({ arbitrary, weight: 6 });
  const other = (arbitrary: fc.Arbitrary<QueryParam>) => ({ arbitrary, weight: 1 });
  return fc.oneof(
    ok(fc.constant(param('model', model, 'ok'))),
    other(unknownModel.map((name) => param('model', name, 'not-found'))),
    other(fc.constantFrom('', 'x'.repeat(65)).map((name) => param('model', name, 'invalid'))),
    ok(fc.constant(param('version', '1', 'ok'))),
    other(fc.integer({ min: 2, max: 999_999_999 }).map((v) => param('version', String(v), 'not-found'))),
    other(
      fc
        .constantFrom('0', '-1', '01', '1.0', '1e3', 'abc', '', ' 1', '9999999999')
        .map((v) => param('version', v, 'invalid')),
    ),
    ok(fc.constantFrom('all', 'largest').map((v) => param('faces', v, 'ok'))),
    other(fc.constantFrom('ALL', 'some', '', 'all ').map((v) => param('faces', v, 'invalid'))),
    ok(fc.constantFrom('auto', 'none').map((v) => param('crop', v, 'ok'))),
    other(fc.constantFrom('NONE', 'yes', '', '0').map((v) => param('crop', v, 'invalid'))),
    ok(fc.integer({ min: 1, max: 1000 }).map((v) => param('max_faces', String(v), 'ok'))),
    other(fc.constantFrom('0', '1001', '-3', 'x', '02').map((v) => param('max_faces', v, 'invalid'))),
    other(
      fc
        .constantFrom('model', 'version', 'faces', 'crop', 'max_faces')
        .map((key) => param(key, null, 'invalid')),
    ),
    other(
      fc
        .constantFrom(
          '__proto__',
          'constructor',
          'toString',
          'hasOwnProperty',
          'face',
          'Model',
          'crop[]',
          'api_key',
        )
        .map((key) => param(key, '1', 'invalid')),
    ),
    other(
      fc
        .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 })
        .map((key) => param(`x-${key}`, '1', 'invalid')),
    ),
  );
}

export interface QueryCase {
  params: QueryParam[];
}

/** Query cases over a registry whose only model is `model` with version 1. */
export function queryArbitrary(model: string): fc.Arbitrary<QueryCase> {
  return fc.record({ params: fc.array(parameters(model), { maxLength: 4 }) });
}

/**
 * The query string of a case (with its "?"; empty when there are no parameters), every key and
 * value percent-encoded so the server decodes exactly what the case holds.
 */
export function queryString(query: QueryCase): string {
  if (query.params.length === 0) return '';
  const encoded = query.params.map(({ key, value }) =>
    value === null ? encodeURIComponent(key) : `${encodeURIComponent(key)}=${encodeURIComponent(value)}`,
  );
  return `?${encoded.join('&')}`;
}

/**
 * The one status the API must answer.
 *
 * @example expectedStatus({ params: [{ key: 'crop', value: 'none', effect: 'ok' }] }) // 200
 */
export function expectedStatus(query: QueryCase): number {
  const keys = query.params.map((p) => p.key);
  const repeated = keys.some((key, i) => keys.indexOf(key) !== i);
  if (repeated || query.params.some((p) => p.effect === 'invalid')) return 400;
  if (query.params.some((p) => p.effect === 'not-found')) return 404;
  return 200;
}
