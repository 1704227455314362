/**
 * Background traffic for the fault tests: a few clients sending known images (crop=none) one after
 * another, in a shuffled order, until told to stop; every outcome is kept, so a test can check that
 * nothing was lost (every request answered), nothing failed that should not have, and every answer
 * was the one for its own image (see helpers/answer-key.ts).
 */
import { shuffledIndices, type AnswerKey } from '../../tools/answer-key';

export interface Outcome {
  /** Which image was sent. */
  index: number;
  /** HTTP status, or 0 when no response came (connection error). */
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The connection error, when there was no response. */
  error?: string;
}

export type SendImage = (index: number) => Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** An error with its cause (fetch reports "fetch failed" and puts ECONNRESET etc. in the cause). */
function describeError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause ? `${String(error)} (${cause.code ?? ''} ${cause.message ?? ''})` : String(error);
}

/** Pause between one client's requests: steady traffic that leaves the machine some room. */
const CLIENT_PAUSE_MS = 5;

export class Traffic {
  readonly outcomes: Outcome[] = [];
  private running = true;
  private readonly clients: Promise<void>[];

  /**
   * Starts `clients` loops over `images` images in seeded shuffled orders.
   *
   * @example const traffic = new Traffic(2, 8, (i) => service.predict(images[i], '?crop=none', 'image/png'));
   */
  constructor(clients: number, images: number, send: SendImage, seed = 1) {
    this.clients = Array.from({ length: clients }, async (_, client) => {
      const order = shuffledIndices(images, 1000, seed + client);
      for (let i = 0; this.running; i++) {
        const index = order[i % order.length];
        try {
          const response = await send(index);
          this.outcomes.push({ index, status: response.status, body: response.body });
        } catch (error) {
          this.outcomes.push({ index, status: 0, body: null, error: describeError(error) });
        }
        await new Promise((resolve) => setTimeout(resolve, CLIENT_PAUSE_MS));
      }
    });
  }

  /** Outcomes recorded so far. */
  get count(): number {
    return this.outcomes.length;
  }

  async stop(): Promise<Outcome[]> {
    this.running = false;
    await Promise.all(this.clients);
    return this.outcomes;
  }
}

/**
 * The outcomes that are not a 200 carrying the answer to their own image, per the key of the model
 * version that answered (`keys` by version number).
 */
export function wrongOutcomes(outcomes: readonly Outcome[], keys: ReadonlyMap<number, AnswerKey>): Outcome[] {
  return outcomes.filter((outcome) => {
    if (outcome.status !== 200) return true;
    const key = keys.get(outcome.body.model.version);
    return !key || !key.isAnswerTo(outcome.index, outcome.body.faces[0].probabilities);
  });
}

/** A short description of unexpected outcomes for a failure message. */
export function describeOutcomes(outcomes: readonly Outcome[]): string {
  return outcomes
    .slice(0, 5)
    .map((o) => `#${o.index}: ${o.status} ${o.error ?? JSON.stringify(o.body).slice(0, 200)}`)
    .join('\n');
}
