import fc from 'fast-check';
import {
  boundaryOf,
  MultipartFramingScanner,
  type FramingLimits,
  type FramingViolation,
} from '../../src/predict/multipart-framing';

const LIMITS: FramingLimits = { preambleBytes: 64, partHeaderBytes: 128, fieldBytes: 32, epilogueBytes: 16 };
const BOUNDARY = 'xYz-42';
const FILE = Buffer.alloc(5000, 0x41);

function body(options: { preamble?: string; header?: string; field?: string; epilogue?: string }): Buffer {
  const file = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="f.png"${options.header ?? ''}\r\nContent-Type: image/png\r\n\r\n`;
  const field = `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\n${options.field ?? 'hi'}`;
  return Buffer.concat([
    Buffer.from(options.preamble ?? ''),
    Buffer.from(file),
    FILE,
    Buffer.from(field),
    Buffer.from(`\r\n--${BOUNDARY}--\r\n${options.epilogue ?? ''}`),
  ]);
}

/** Pushes `bytes` split at `cuts` (offsets), returning the scanner's verdict at the end. */
function scan(bytes: Buffer, cuts: number[] = []): FramingViolation | null {
  const scanner = new MultipartFramingScanner(BOUNDARY, LIMITS);
  const points = [...new Set([0, ...cuts.map((c) => c % bytes.length), bytes.length])].sort((a, b) => a - b);
  let verdict: FramingViolation | null = null;
  for (let i = 1; i < points.length; i++) verdict = scanner.push(bytes.subarray(points[i - 1], points[i]));
  return verdict;
}

describe('MultipartFramingScanner', () => {
  test('a well-formed upload passes, however its file is sized', () => {
    expect(scan(body({}))).toBeNull();
  });

  test.each<[string, Parameters<typeof body>[0], keyof FramingLimits]>([
    ['a long preamble', { preamble: 'p'.repeat(65) }, 'preambleBytes'],
    ['a long part header', { header: `; x="${'h'.repeat(200)}"` }, 'partHeaderBytes'],
    ['a long field value', { field: 'f'.repeat(33) }, 'fieldBytes'],
    ['a long epilogue', { epilogue: 'e'.repeat(17) }, 'epilogueBytes'],
  ])('%s is refused', (_name, options, limit) => {
    expect(scan(body(options))).toEqual({ limit, max: LIMITS[limit] });
  });

  test('a body that never shows its boundary is refused once past the preamble limit', () => {
    expect(scan(Buffer.alloc(1000, 0x2d))).toEqual({ limit: 'preambleBytes', max: LIMITS.preambleBytes });
  });

  test('the verdict does not depend on where the chunks split the body', () => {
    const bodies = [body({}), body({ field: 'f'.repeat(33) }), body({ preamble: 'p'.repeat(65) })];
    const verdicts = bodies.map((b) => scan(b));
    fc.assert(
      fc.property(fc.nat({ max: 2 }), fc.array(fc.nat(), { maxLength: 40 }), (which, cuts) => {
        expect(scan(bodies[which], cuts)).toEqual(verdicts[which]);
      }),
      { seed: 16, numRuns: 300 },
    );
  });
});

describe('boundaryOf', () => {
  test('reads quoted and plain boundaries', () => {
    expect(boundaryOf('multipart/form-data; boundary=abc')).toBe('abc');
    expect(boundaryOf('multipart/form-data; charset=utf-8; Boundary="a b;c"')).toBe('a b;c');
    expect(boundaryOf('multipart/form-data')).toBeNull();
    expect(boundaryOf(undefined)).toBeNull();
  });
});
