/**
 * The soak benchmark's traffic: a weighted mix of request kinds (face crops, crops pinned to a
 * version, photos with detection, invalid requests with their expected status, GET /models and the
 * probes), sent open-loop at a fixed rate (a request every 1/rate seconds whatever the answers do,
 * as independent clients would) or closed-loop for calibration. Every outcome is recorded.
 */

export type Kind = 'crop' | 'crop-pinned' | 'photo' | 'invalid' | 'models' | 'probe' | 'broken-pinned';

export interface RequestSpec {
  kind: Kind;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Which crop image (for the answer key). */
  index?: number;
  /** The status an invalid request must get; valid requests must get 200. */
  expect: number;
}

export interface Outcome {
  kind: Kind;
  index?: number;
  /** Seconds since the soak started, when the request was sent. */
  t: number;
  ms: number;
  /** 0 when no response came (connection error). */
  status: number;
  expect: number;
  /** The version that answered a /predict request. */
  version?: number;
  probabilities?: Record<string, number>;
  error?: string;
}

/** A response body we keep: the served version and the first face's probabilities. */
interface PredictBody {
  model?: { version?: number };
  faces?: { probabilities: Record<string, number> }[];
}

/**
 * Sends one request and records its outcome (never throws).
 *
 * @example const outcome = await send(url, spec, startedAt);
 */
export async function send(url: string, spec: RequestSpec, origin: number): Promise<Outcome> {
  const started = performance.now();
  const base = { kind: spec.kind, index: spec.index, t: (started - origin) / 1000, expect: spec.expect };
  try {
    const response = await fetch(url + spec.path, {
      method: spec.method,
      headers: spec.headers,
      body: spec.body,
    });
    const text = await response.text();
    const outcome: Outcome = { ...base, ms: performance.now() - started, status: response.status };
    if (spec.path.startsWith('/predict') && response.status === 200) {
      const body = JSON.parse(text) as PredictBody;
      outcome.version = body.model?.version;
      outcome.probabilities = body.faces?.[0]?.probabilities;
    }
    return outcome;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { ...base, ms: performance.now() - started, status: 0, error: cause?.code ?? String(error) };
  }
}

/** Picks request kinds by weight with a seeded generator (reproducible mixes). */
export class Mix {
  private state: number;
  private readonly total: number;

  constructor(
    private readonly weights: ReadonlyArray<readonly [Kind, number]>,
    seed = 1,
  ) {
    this.state = seed >>> 0 || 1;
    this.total = weights.reduce((sum, [, w]) => sum + w, 0);
  }

  /** A number in [0, 1). */
  random(): number {
    this.state = (Math.imul(this.state, 1_664_525) + 1_013_904_223) >>> 0;
    return this.state / 2 ** 32;
  }

  next(): Kind {
    let r = this.random() * this.total;
    for (const [kind, weight] of this.weights) {
      r -= weight;
      if (r < 0) return kind;
    }
    return this.weights[this.weights.length - 1][0];
  }
}

/** Timer tick of the open-loop sender: requests due within a tick leave together. */
const TICK_MS = 5;

/**
 * Sends `rate` requests per second made by `make` until `stop()`, never more than `maxInFlight`
 * at once (beyond that the generator, not the service, is saturated: those are counted as skipped).
 */
export class OpenLoop {
  readonly outcomes: Outcome[] = [];
  skipped = 0;
  private inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly url: string,
    private readonly rate: number,
    private readonly maxInFlight: number,
    private readonly make: () => RequestSpec,
    private readonly origin: number,
  ) {}

  start(): void {
    const began = performance.now();
    let sent = 0;
    this.timer = setInterval(() => {
      const due = Math.floor(((performance.now() - began) / 1000) * this.rate);
      for (; sent < due; sent++) {
        if (this.inFlight.size >= this.maxInFlight) {
          this.skipped++;
          continue;
        }
        const request = send(this.url, this.make(), this.origin).then((outcome) => {
          this.outcomes.push(outcome);
          this.inFlight.delete(request);
        });
        this.inFlight.add(request);
      }
    }, TICK_MS);
  }

  /** Stops sending and waits for the answers still due. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
  }
}

/**
 * `concurrency` clients each sending the next request as soon as the last is answered, for
 * `seconds`: the most the service does with this mix (the calibration of the soak's rate).
 */
export async function closedLoop(
  url: string,
  concurrency: number,
  seconds: number,
  make: () => RequestSpec,
): Promise<{ outcomes: Outcome[]; seconds: number }> {
  const origin = performance.now();
  const end = origin + seconds * 1000;
  const outcomes: Outcome[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) outcomes.push(await send(url, make(), origin));
    }),
  );
  return { outcomes, seconds: (performance.now() - origin) / 1000 };
}
