/**
 * A bound on the decoding of large images. sharp decodes on libuv's small thread pool (4 threads),
 * in the order jobs arrive: 48 uploads of 40-megapixel images queued 96 decodes there, and a small
 * image's decode waited behind all of them, seconds, even for requests that had long timed out.
 * Images above `largePixels` now wait here for one of `concurrency` slots instead, in a queue that
 * drops requests which time out or whose client leaves before their turn, and that refuses
 * (503 OVERLOADED) beyond `maxQueue`; smaller images never wait, and the pool keeps threads for them.
 */
import { OverloadedError } from '../errors';

export interface DecodeGateOptions {
  /** Images with more pixels than this take a slot; smaller ones pass at once. */
  largePixels: number;
  /** Large images decoded at once. */
  concurrency: number;
  /** Large images allowed to wait for a slot. */
  maxQueue: number;
}

/**
 * A held slot (or none, for a small image): release it once the image's pixels are decoded, also
 * when the request was abandoned meanwhile (a started decode cannot be stopped, and the slot
 * stands for the thread it occupies).
 */
export interface DecodePermit {
  /** Idempotent. */
  release(): void;
}

interface Waiter {
  grant(): void;
  signal: AbortSignal;
}

/** Seconds a refused client is asked to wait: about one large decode. */
const RETRY_AFTER_SECONDS = 1;
const NO_SLOT: DecodePermit = { release: () => undefined };

export class DecodeGate {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly options: DecodeGateOptions) {}

  /** Large images waiting for a slot. */
  get queueDepth(): number {
    return this.waiting.length;
  }

  /** Large images being decoded now. */
  get inProgress(): number {
    return this.running;
  }

  /**
   * Waits for a slot for an image of `pixels` pixels; the slot is held until the permit is
   * released. While waiting, `signal` aborting (the request timed out or its client left) takes the
   * request out of the queue.
   *
   * @example const permit = await gate.acquire(width * height, signal); try { await decode(); } finally { permit.release(); }
   * @throws OverloadedError when the queue is full; the signal's reason when it aborts first.
   */
  acquire(pixels: number, signal: AbortSignal): Promise<DecodePermit> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (pixels <= this.options.largePixels) return Promise.resolve(NO_SLOT);
    if (this.running < this.options.concurrency) return Promise.resolve(this.take());
    if (this.waiting.length >= this.options.maxQueue) {
      return Promise.reject(new OverloadedError(RETRY_AFTER_SECONDS));
    }
    return new Promise<DecodePermit>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        signal,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.take());
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private take(): DecodePermit {
    this.running++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.running--;
        this.next();
      },
    };
  }

  private next(): void {
    while (this.running < this.options.concurrency && this.waiting.length > 0) {
      const waiter = this.waiting.shift() as Waiter;
      if (!waiter.signal.aborted) waiter.grant();
    }
  }
}
