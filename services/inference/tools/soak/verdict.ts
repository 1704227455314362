/**
 * The soak benchmark's judgement, as pure functions of what it recorded: memory samples, request
 * outcomes and registry events. Loading a newly published version legitimately adds memory, so
 * RSS is judged for drift within each steady stretch between registry events, not across them;
 * the face detector's tensors must not move at all.
 */

export interface Sample {
  /** Seconds since the soak started. */
  t: number;
  rss: number;
  heap: number;
  /** Tensors the face-detector workers hold after their latest detections (null before any). */
  detectorTensors: number | null;
}

export interface Segment {
  from: number;
  to: number;
  samples: number;
  /** Mean RSS of the segment's last third over its first third, minus 1. */
  rssDrift: number | null;
}

/** Samples this long after a registry event are left out: the new version's load settles. */
export const SETTLE_S = 30;
/** A steady stretch shorter than this says nothing about drift. */
export const MIN_SEGMENT_S = 60;

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * RSS drift in each stretch between `events` (seconds), after `warmupS` and each event's settling.
 *
 * @example segments(samples, [180, 330], 60) // [{ from: 60, to: 180, ... }, { from: 210, to: 330, ... }, ...]
 */
export function segments(samples: readonly Sample[], events: readonly number[], warmupS: number): Segment[] {
  const end = samples.length > 0 ? samples[samples.length - 1].t : 0;
  const bounds: [number, number][] = [];
  let from = warmupS;
  for (const event of [...events].sort((a, b) => a - b)) {
    if (event > from) bounds.push([from, event]);
    from = Math.max(from, event + SETTLE_S);
  }
  if (end > from) bounds.push([from, end]);
  return bounds.map(([a, b]) => {
    // A stretch ending at an event excludes the event's own moment (the change has begun).
    const inside = samples.filter((s) => s.t >= a && (s.t < b || b === end));
    // Rounded: stretches measured from event timestamps are a few microseconds off whole seconds.
    if (Math.round(b - a) < MIN_SEGMENT_S || inside.length < 3) {
      return { from: a, to: b, samples: inside.length, rssDrift: null };
    }
    const third = Math.max(1, Math.floor(inside.length / 3));
    const first = mean(inside.slice(0, third).map((s) => s.rss));
    const last = mean(inside.slice(-third).map((s) => s.rss));
    return { from: a, to: b, samples: inside.length, rssDrift: last / first - 1 };
  });
}

/** Distinct detector tensor counts seen after warm-up (one value when nothing leaks). */
export function tensorCounts(samples: readonly Sample[], warmupS: number): number[] {
  const seen = samples
    .filter((s) => s.t >= warmupS && s.detectorTensors !== null)
    .map((s) => s.detectorTensors as number);
  return [...new Set(seen)].sort((a, b) => a - b);
}

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

/**
 * A check line for the report.
 *
 * @example check('zero 5xx for valid requests', fivexx === 0, `${fivexx} of ${valid}`)
 */
export function check(name: string, pass: boolean, detail: string): Check {
  return { name, pass, detail };
}
