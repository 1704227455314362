import { parsePredictQuery } from '../../src/predict/query';

describe('parsePredictQuery', () => {
  test('defaults and conversions', () => {
    expect(parsePredictQuery({})).toEqual({ ok: true, query: { faces: 'all', crop: 'auto' } });
    expect(
      parsePredictQuery({ model: 'tiny', version: '3', faces: 'largest', crop: 'none', max_faces: '2' }),
    ).toEqual({
      ok: true,
      query: { model: 'tiny', version: 3, faces: 'largest', crop: 'none', max_faces: 2 },
    });
  });

  test.each([
    [{ version: 'abc' }, /version/],
    [{ version: '0' }, /version/],
    [{ version: '1.5' }, /version/],
    [{ faces: 'some' }, /faces/],
    [{ crop: 'tight' }, /crop/],
    [{ max_faces: '0' }, /max_faces/],
    [{ face: 'largest' }, /unknown parameter face/],
    [{ version: ['1', '2'] }, /version/],
  ])('%j is refused naming the parameter', (raw, message) => {
    const parsed = parsePredictQuery(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});
