/**
 * The dynamic batching queue of one loaded model version (DESIGN §5): the I/O shell around the
 * pure policy in `policy.ts`. It owns the timer, the one-batch-at-a-time lock and the runtime
 * call; every decision (dispatch now, wait, admit, drop) comes from the policy.
 */
import type { InferenceRuntime } from '../runtime/types';
import { InferenceFailedError, OverloadedError, RequestTimeoutError } from '../errors';
import { admits, decide, retryAfterSeconds, splitStale, type BatchPolicy, type WaitingItem } from './policy';

/** How an item left the queue, for metrics. */
export type ItemOutcome = 'ok' | 'failed' | 'expired' | 'cancelled' | 'rejected';

/** What the queue reports; the metrics plugin turns it into Prometheus series. */
export interface BatchObserver {
  onDepth?(depth: number): void;
  /** A batch ran: its size, each item's wait in the queue and the runtime's compute time. */
  onBatch?(size: number, waitsMs: readonly number[], computeMs: number, ok: boolean): void;
  onOutcome?(outcome: ItemOutcome, count: number): void;
}

export interface QueueOptions {
  policy: BatchPolicy;
  /** Floats in one input (S * S * 3). */
  inputLength: number;
  /** Floats in one output row (the number of classes). */
  outputLength: number;
  observer?: BatchObserver;
  /** Milliseconds clock; injectable so tests can reason about time. */
  now?: () => number;
}

export interface ClassifyResult {
  /** One probability row per input, in input order. */
  outputs: Float32Array[];
  /** Longest time one of the inputs waited in the queue (ms). */
  waitMs: number;
  /** Runtime time of the batch(es) that computed the inputs (ms). */
  computeMs: number;
}

interface Item extends WaitingItem {
  input: Float32Array;
  resolve(result: { output: Float32Array; waitMs: number; computeMs: number }): void;
  reject(error: unknown): void;
}

/** Batch compute time assumed for Retry-After before the first batch has run. */
const INITIAL_BATCH_MS_ESTIMATE = 100;
/** Weight of the newest batch in the moving average of batch time. */
const BATCH_MS_SMOOTHING = 0.2;

export class BatchQueue {
  private readonly waiting: Item[] = [];
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private draining = false;
  private closed = false;
  private recentBatchMs = INITIAL_BATCH_MS_ESTIMATE;
  private readonly now: () => number;

  constructor(
    private readonly runtime: Pick<InferenceRuntime, 'run'>,
    private readonly options: QueueOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Items waiting for a batch (not counting the batch running now). */
  get depth(): number {
    return this.waiting.length;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /**
   * Queues `inputs` (one request's faces) and resolves to their probabilities. Rejects at once with
   * OverloadedError when the queue is full, with `signal.reason` when the request is abandoned or
   * its deadline passes before its batch runs, and with InferenceFailedError when its batch fails.
   *
   * @example const { outputs } = await queue.classify([face], AbortSignal.timeout(5000), deadline);
   */
  classify(
    inputs: readonly Float32Array[],
    signal: AbortSignal,
    deadline = Infinity,
  ): Promise<ClassifyResult> {
    if (this.closed) return Promise.reject(new Error('the batching queue is closed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    for (const input of inputs) {
      if (input.length !== this.options.inputLength) {
        return Promise.reject(
          new RangeError(`input has ${input.length} values, the model takes ${this.options.inputLength}`),
        );
      }
    }
    if (!admits(this.waiting.length, inputs.length, this.options.policy)) {
      this.options.observer?.onOutcome?.('rejected', inputs.length);
      const seconds = retryAfterSeconds(
        this.waiting.length,
        this.options.policy.maxBatchSize,
        this.recentBatchMs,
      );
      return Promise.reject(new OverloadedError(seconds));
    }
    const enqueuedAt = this.now();
    const items = inputs.map(
      (input) =>
        new Promise<{ output: Float32Array; waitMs: number; computeMs: number }>((resolve, reject) => {
          this.waiting.push({ input, enqueuedAt, deadline, cancelled: false, resolve, reject });
        }),
    );
    const mine = this.waiting.slice(this.waiting.length - inputs.length);
    const onAbort = () => this.cancel(mine, signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    this.options.observer?.onDepth?.(this.waiting.length);
    this.schedule();
    return Promise.all(items)
      .then((results) => ({
        outputs: results.map((r) => r.output),
        waitMs: Math.max(...results.map((r) => r.waitMs)),
        computeMs: Math.max(...results.map((r) => r.computeMs)),
      }))
      .finally(() => signal.removeEventListener('abort', onAbort));
  }

  /**
   * Dispatches everything that waits without the batching delay and resolves once the queue is
   * empty and no batch runs. New items are still accepted (requests already being preprocessed).
   */
  async drain(): Promise<void> {
    this.draining = true;
    this.schedule();
    while (this.running || this.waiting.length > 0) {
      await (this.running ?? Promise.resolve());
      if (!this.running && this.waiting.length > 0) this.schedule();
    }
  }

  /** Drains, then refuses new work. */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    this.clearTimer();
  }

  /** Removes the abandoned request's items that still wait; those in a running batch finish. */
  private cancel(items: readonly Item[], reason: unknown): void {
    let removed = 0;
    for (const item of items) {
      const index = this.waiting.indexOf(item);
      if (index < 0) continue;
      this.waiting.splice(index, 1);
      item.cancelled = true;
      item.reject(reason);
      removed++;
    }
    if (removed > 0) {
      this.options.observer?.onOutcome?.('cancelled', removed);
      this.options.observer?.onDepth?.(this.waiting.length);
    }
  }

  private schedule(): void {
    const decision = decide(this.waiting, this.now(), this.busy, this.options.policy, this.draining);
    if (decision.kind === 'dispatch') {
      this.clearTimer();
      const batch = this.waiting.splice(0, decision.count);
      this.options.observer?.onDepth?.(this.waiting.length);
      this.running = this.runBatch(batch).finally(() => {
        this.running = null;
        this.schedule();
      });
    } else if (decision.kind === 'wait' && decision.at < this.timerAt) {
      this.clearTimer();
      this.timerAt = decision.at;
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.timerAt = Infinity;
          this.schedule();
        },
        Math.max(0, decision.at - this.now()),
      );
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private async runBatch(candidates: Item[]): Promise<void> {
    const started = this.now();
    const { live, stale } = splitStale(candidates, started);
    for (const item of stale)
      item.reject(item.cancelled ? new Error('cancelled') : new RequestTimeoutError());
    if (stale.length > 0) this.options.observer?.onOutcome?.('expired', stale.length);
    if (live.length === 0) return;

    const { inputLength, outputLength } = this.options;
    const input = new Float32Array(live.length * inputLength);
    live.forEach((item, i) => input.set(item.input, i * inputLength));
    const waits = live.map((item) => started - item.enqueuedAt);
    let output: Float32Array;
    try {
      output = await this.runtime.run(input, live.length);
      if (output.length !== live.length * outputLength) {
        throw new Error(`runtime returned ${output.length} values for ${live.length} x ${outputLength}`);
      }
    } catch (error) {
      const computeMs = this.now() - started;
      this.options.observer?.onBatch?.(live.length, waits, computeMs, false);
      this.options.observer?.onOutcome?.('failed', live.length);
      const failure = new InferenceFailedError(error);
      for (const item of live) item.reject(failure);
      return;
    }
    const computeMs = this.now() - started;
    this.recentBatchMs += BATCH_MS_SMOOTHING * (computeMs - this.recentBatchMs);
    this.options.observer?.onBatch?.(live.length, waits, computeMs, true);
    this.options.observer?.onOutcome?.('ok', live.length);
    live.forEach((item, i) =>
      item.resolve({
        output: output.slice(i * outputLength, (i + 1) * outputLength),
        waitMs: waits[i],
        computeMs,
      }),
    );
  }
}
