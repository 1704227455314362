/** The soak benchmark's judgement: RSS drift per steady stretch, detector tensor counts. */
import { MIN_SEGMENT_S, segments, SETTLE_S, tensorCounts, type Sample } from '../../../tools/soak/verdict';

/** Drift is a ratio of means: exact arithmetic on these round numbers, up to float rounding. */
const DRIFT_TOLERANCE = 1e-9;
const MB = 2 ** 20;

/** A sample every 10 s from 0 to `end`, RSS given by `rss(t)`. */
function series(
  end: number,
  rss: (t: number) => number,
  tensors: (t: number) => number | null = () => 19,
): Sample[] {
  const out: Sample[] = [];
  for (let t = 0; t <= end; t += 10) out.push({ t, rss: rss(t), heap: 50 * MB, detectorTensors: tensors(t) });
  return out;
}

describe('segments', () => {
  test('a flat RSS has no drift; stretches skip the warm-up and each event’s settling', () => {
    const result = segments(
      series(600, () => 1000 * MB),
      [150, 400],
      60,
    );
    expect(result.map((s) => [s.from, s.to])).toEqual([
      [60, 150],
      [150 + SETTLE_S, 400],
      [400 + SETTLE_S, 600],
    ]);
    for (const s of result) expect(Math.abs(s.rssDrift as number)).toBeLessThan(DRIFT_TOLERANCE);
  });

  test('a step at a registry event (a version loading) is not drift; a slope within a stretch is', () => {
    const stepped = segments(
      series(600, (t) => (t < 300 ? 1000 : 1400) * MB),
      [300],
      60,
    );
    for (const s of stepped) expect(Math.abs(s.rssDrift as number)).toBeLessThan(DRIFT_TOLERANCE);

    const leaking = segments(
      series(600, (t) => (1000 + t) * MB),
      [],
      0,
    );
    expect(leaking).toHaveLength(1);
    // First third averages around t=95, last third around t=505: (1505 / 1095) - 1.
    expect(leaking[0].rssDrift as number).toBeGreaterThan(0.3);
  });

  test(`stretches shorter than ${MIN_SEGMENT_S} s are reported without a judgement`, () => {
    const [short] = segments(
      series(100, () => MB),
      [],
      60,
    );
    expect(short.rssDrift).toBeNull();
  });
});

describe('tensorCounts', () => {
  test('one value when nothing leaks, every value seen after warm-up otherwise', () => {
    expect(
      tensorCounts(
        series(300, () => MB),
        60,
      ),
    ).toEqual([19]);
    expect(
      tensorCounts(
        series(
          300,
          () => MB,
          (t) => (t < 30 ? null : 19 + Math.floor(t / 100)),
        ),
        60,
      ),
    ).toEqual([19, 20, 21, 22]);
    expect(
      tensorCounts(
        series(
          300,
          () => MB,
          () => null,
        ),
        0,
      ),
    ).toEqual([]);
  });
});
