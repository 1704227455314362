/**
 * `npm run bench:abuse`: the service as a real process (default configuration, the shipped
 * registry) under normal traffic, first alone, then while it is abused at the same time:
 *   - slowloris connections held open (headers one byte a second; bodies declared and never sent),
 *     each reopened as soon as the service closes it;
 *   - oversized bodies (a declared 200 MB upload, an endless chunked multipart preamble, a 9 MB
 *     nested JSON body sent slowly);
 *   - decompression bombs: 6300 x 6300 WebP files of 64 KB (just under the 40 M pixel limit) from
 *     many concurrent senders, which honour Retry-After, and PNG headers claiming 10^10 pixels.
 * Normal traffic is closed-loop clients sending 48-px face crops (crop=none, checked against an
 * answer key computed first, one at a time) and 640-px photos (face detection). Both phases run in
 * one process on one machine, so their latencies compare side by side whatever the machine's load.
 * Checks: every normal request answered 200 with its own image's answer (none lost or mixed up),
 * every abusive request its documented answer, no unexpected error logged, and the process still
 * serves and drains at the end. Writes bench-results/abuse-<time>.json and prints a summary.
 *
 * Options: --baseline S (30), --duration S (60), --clients N (4), --slowloris N (40), --bombs N
 * (48), --registry DIR and --model NAME (default: models/ and its default model), --env KEY=VALUE.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DEFAULT_REGISTRY_DIR, SHIPPED_DEFAULT_MODEL } from '../../src/config';
import { summarizeLatency } from './latency';
import { faceCrops, photos } from './workloads';
import { distance, DISTINCT_ANSWER_MARGIN, SAME_ANSWER_TOLERANCE } from '../answer-key';
import { pngHeaderClaiming } from '../png-header';
import { rawUpload, trickle, type RawAnswer } from '../raw-http';
import { startService } from '../server-process';
import { send, type Outcome, type RequestSpec } from '../soak/traffic';
import { REPO_ROOT, RESULTS_DIR } from '../paths';

/** One photo among this many normal requests (the rest are face crops). */
const PHOTO_EVERY = 4;
/** The bomb: just under the default MAX_IMAGE_PIXELS (40 M). */
const BOMB_SIDE = 6300;
const DECLARED_HUGE_BYTES = 200 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
/** A raw exchange that gets no answer within this is counted as lost. */
const RAW_TIMEOUT_MS = 120_000;
/** Pause of each oversize sender between attempts (they are refused at once). */
const OVERSIZE_PAUSE_MS = 200;
const JSON_BYTES = 9 * 1024 * 1024;
/** The JSON body is sent this slowly: a parser would wait for all of it. */
const JSON_SEND_MS = 5_000;

const log = (message: string) => console.error(`[abuse] ${message}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function options() {
  const { values } = parseArgs({
    options: {
      baseline: { type: 'string', default: '30' },
      duration: { type: 'string', default: '60' },
      clients: { type: 'string', default: '4' },
      slowloris: { type: 'string', default: '40' },
      bombs: { type: 'string', default: '48' },
      registry: { type: 'string' },
      model: { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  const count = (name: string, raw: string) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`--${name} must be a whole number, got ${raw}`);
    return value;
  };
  return {
    baseline: count('baseline', values.baseline),
    duration: count('duration', values.duration),
    clients: Math.max(1, count('clients', values.clients)),
    slowloris: count('slowloris', values.slowloris),
    bombs: count('bombs', values.bombs),
    registry: values.registry ? path.resolve(values.registry) : DEFAULT_REGISTRY_DIR,
    model: values.model ?? SHIPPED_DEFAULT_MODEL,
    env: Object.fromEntries(
      values.env.map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`--env expects KEY=VALUE, got ${pair}`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    ),
  };
}

/** Tally of answers by status (0: no answer), per kind of abuse. */
class Tally {
  readonly counts: Record<string, Record<string, number>> = {};
  add(kind: string, status: number | string): void {
    this.counts[kind] ??= {};
    this.counts[kind][String(status)] = (this.counts[kind][String(status)] ?? 0) + 1;
  }
  statuses(kind: string): string[] {
    return Object.keys(this.counts[kind] ?? {});
  }
}

/** Runs `body` in a loop until `running()` is false. */
async function loop(running: () => boolean, body: () => Promise<void>): Promise<void> {
  while (running()) await body();
}

/** A face crop sent with crop=none: its answer is checked against the key. */
function cropSpec(body: Buffer, index: number): RequestSpec {
  return {
    kind: 'crop',
    index,
    method: 'POST',
    path: '/predict?crop=none',
    headers: { 'content-type': 'image/jpeg' },
    body,
    expect: 200,
  };
}

interface Phase {
  name: string;
  outcomes: Outcome[];
  seconds: number;
}

async function main(): Promise<void> {
  const opts = options();
  const crops = await faceCrops();
  const photoSet = await photos();
  log(
    `normal traffic: ${crops.bodies.length} face crops (${crops.source}), photos: ${photoSet?.source ?? 'none'}`,
  );
  log(`drawing the bomb (${BOMB_SIDE} x ${BOMB_SIDE} WebP)...`);
  const bomb = await sharp({
    create: { width: BOMB_SIDE, height: BOMB_SIDE, channels: 3, background: '#7a7a7a' },
  })
    .webp()
    .toBuffer();
  const headerBomb = pngHeaderClaiming(100_000, 100_000);

  log(`starting the service over ${opts.registry} (default model ${opts.model})...`);
  const service = await startService({
    REGISTRY_DIR: opts.registry,
    DEFAULT_MODEL: opts.model,
    ...opts.env,
  });
  const url = service.url;
  const load: Record<string, number[]> = { start: os.loadavg() };
  const abuse = new Tally();
  const rawDetails: { kind: string; sentBeforeAnswer: number; answeredAfterMs: number; status: number }[] =
    [];
  try {
    // The answer key: each crop alone, one after the other; keep crops whose answers differ.
    const keyAnswers: Record<string, number>[] = [];
    for (const body of crops.bodies) {
      const outcome = await send(url, cropSpec(body, 0), performance.now());
      if (outcome.status !== 200 || !outcome.probabilities) throw new Error(`key request: ${outcome.status}`);
      keyAnswers.push(outcome.probabilities);
    }
    const used = keyAnswers
      .map((_, i) => i)
      .filter((i) =>
        keyAnswers.every((other, j) => j === i || distance(keyAnswers[i], other) > DISTINCT_ANSWER_MARGIN),
      );
    if (used.length < 4) throw new Error('too few crops with distinct answers to check for mix-ups');
    log(`${used.length} crops with distinct answers form the key`);

    let sequence = 0;
    const nextNormal = (): RequestSpec => {
      sequence++;
      if (photoSet && sequence % PHOTO_EVERY === 0) {
        const body = photoSet.bodies[sequence % photoSet.bodies.length];
        return {
          kind: 'photo',
          method: 'POST',
          path: '/predict',
          headers: { 'content-type': 'image/jpeg' },
          body,
          expect: 200,
        };
      }
      const index = used[sequence % used.length];
      return cropSpec(crops.bodies[index], index);
    };

    /** Closed-loop normal clients for `seconds`. */
    const normalTraffic = async (name: string, seconds: number): Promise<Phase> => {
      const origin = performance.now();
      const end = origin + seconds * 1000;
      const outcomes: Outcome[] = [];
      await Promise.all(
        Array.from({ length: opts.clients }, async () => {
          while (performance.now() < end) outcomes.push(await send(url, nextNormal(), origin));
        }),
      );
      return { name, outcomes, seconds: (performance.now() - origin) / 1000 };
    };

    log(`baseline: ${opts.clients} normal clients for ${opts.baseline} s...`);
    const baseline = await normalTraffic('baseline', opts.baseline);
    load.afterBaseline = os.loadavg();

    log(
      `abuse: the same clients for ${opts.duration} s, with ${opts.slowloris} slowloris connections, ` +
        `${opts.bombs} bomb senders and oversized bodies...`,
    );
    let abusing = true;
    const running = () => abusing;
    let heldNow = 0;
    let heldMax = 0;
    const hold = async (kind: string, open: () => Promise<RawAnswer>) => {
      const slow = kind.startsWith('slowloris');
      if (slow) heldNow++;
      heldMax = Math.max(heldMax, heldNow);
      try {
        const answer = await open();
        abuse.add(kind, answer.status);
        rawDetails.push({
          kind,
          sentBeforeAnswer: answer.sentBeforeAnswer,
          answeredAfterMs: answer.answeredAfterMs,
          status: answer.status,
        });
      } catch {
        abuse.add(kind, 'no answer');
      } finally {
        if (slow) heldNow--;
      }
    };
    const slowHeaders = () =>
      trickle(
        url,
        `GET /models HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(4096)}\r\n\r\n`,
        1_000,
        RAW_TIMEOUT_MS,
      );
    const stalledBody = () =>
      rawUpload(
        url,
        {
          head: 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 100000',
          total: 0,
          chunk: () => Buffer.alloc(0),
        },
        RAW_TIMEOUT_MS,
      );
    const slowloris = Array.from({ length: opts.slowloris }, (_, i) =>
      loop(running, () =>
        i % 2 === 0 ? hold('slowloris headers', slowHeaders) : hold('slowloris stalled body', stalledBody),
      ),
    );
    const zeros = Buffer.alloc(CHUNK_BYTES);
    const dashes = Buffer.alloc(CHUNK_BYTES, 0x2d);
    const oversize = [
      loop(running, async () => {
        await hold('declared 200 MB', () =>
          rawUpload(
            url,
            {
              head: `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${DECLARED_HUGE_BYTES}`,
              total: DECLARED_HUGE_BYTES,
              chunk: () => zeros,
            },
            RAW_TIMEOUT_MS,
          ),
        );
        await sleep(OVERSIZE_PAUSE_MS);
      }),
      loop(running, async () => {
        await hold('chunked multipart preamble', () =>
          rawUpload(
            url,
            {
              head: 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b0undary\r\nTransfer-Encoding: chunked',
              total: DECLARED_HUGE_BYTES,
              chunked: true,
              chunk: () => dashes,
            },
            RAW_TIMEOUT_MS,
          ),
        );
        await sleep(OVERSIZE_PAUSE_MS);
      }),
      loop(running, async () => {
        const json = Buffer.alloc(JSON_BYTES, '[');
        const pieces = 50;
        const piece = Math.ceil(json.length / pieces);
        await hold('9 MB nested JSON', () =>
          rawUpload(
            url,
            {
              head: `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${json.length}`,
              // Only the first piece goes out before the answer is awaited (the rest would follow slowly).
              total: piece,
              chunk: (at) => json.subarray(at, at + piece),
            },
            JSON_SEND_MS + RAW_TIMEOUT_MS,
          ),
        );
        await sleep(OVERSIZE_PAUSE_MS);
      }),
    ];
    const bombs = Array.from({ length: opts.bombs }, (_, i) =>
      loop(running, async () => {
        const header = i % 8 === 7;
        const started = performance.now();
        try {
          const response = await fetch(`${url}/predict`, {
            method: 'POST',
            headers: { 'content-type': header ? 'image/png' : 'image/webp' },
            body: header ? headerBomb : bomb,
          });
          await response.arrayBuffer();
          abuse.add(header ? 'header bomb (10^10 px PNG)' : `${BOMB_SIDE}² WebP bomb`, response.status);
          if (!header)
            rawDetails.push({
              kind: 'WebP bomb',
              sentBeforeAnswer: 0,
              answeredAfterMs: performance.now() - started,
              status: response.status,
            });
          const retryAfter = Number(response.headers.get('retry-after') ?? 0);
          if (retryAfter > 0) await sleep(retryAfter * 1000);
        } catch {
          abuse.add(header ? 'header bomb (10^10 px PNG)' : `${BOMB_SIDE}² WebP bomb`, 'no answer');
        }
      }),
    );
    const abused = await normalTraffic('under abuse', opts.duration);
    load.afterAbuse = os.loadavg();
    abusing = false;
    log('abuse stopped; waiting for the abusive connections to end...');
    await Promise.all([...slowloris, ...oversize, ...bombs]);
    const after = await send(url, cropSpec(crops.bodies[used[0]], used[0]), performance.now());
    const stopped = await service.stop();
    // After the exit: the log of the drain is in it too.
    const problems = service.logLines();

    // The verdict.
    const phases = [baseline, abused];
    const summary = phases.map((phase) => {
      const lost = phase.outcomes.filter((o) => o.status === 0);
      const failed = phase.outcomes.filter((o) => o.status !== 200 && o.status !== 0);
      const mixed = phase.outcomes.filter(
        (o) =>
          o.kind === 'crop' &&
          o.status === 200 &&
          (o.index === undefined ||
            !o.probabilities ||
            distance(keyAnswers[o.index], o.probabilities) > SAME_ANSWER_TOLERANCE),
      );
      return {
        phase: phase.name,
        seconds: Math.round(phase.seconds),
        requests: phase.outcomes.length,
        per_second: phase.outcomes.length / phase.seconds,
        lost: lost.length,
        not_200: failed.length,
        not_200_statuses: [...new Set(failed.map((o) => o.status))],
        mixed_up: mixed.length,
        latency_ms: {
          crops: summarizeLatency(
            phase.outcomes.filter((o) => o.kind === 'crop' && o.status === 200).map((o) => o.ms),
          ),
          photos: summarizeLatency(
            phase.outcomes.filter((o) => o.kind === 'photo' && o.status === 200).map((o) => o.ms),
          ),
          all: summarizeLatency(phase.outcomes.filter((o) => o.status === 200).map((o) => o.ms)),
        },
      };
    });
    const allowed: Record<string, string[]> = {
      'slowloris headers': ['408'],
      'slowloris stalled body': ['408'],
      'declared 200 MB': ['413'],
      'chunked multipart preamble': ['413'],
      '9 MB nested JSON': ['415'],
      'header bomb (10^10 px PNG)': ['422'],
      [`${BOMB_SIDE}² WebP bomb`]: ['200', '503', '504'],
    };
    const wrongAbuse = Object.keys(abuse.counts).flatMap((kind) =>
      abuse
        .statuses(kind)
        .filter((s) => !(allowed[kind] ?? []).includes(s))
        .map((s) => `${kind}: ${s}`),
    );
    const requestFailed = problems.filter((line) => line.includes('"request failed"'));
    const sentBefore = (kind: string) => {
      const sent = rawDetails.filter((d) => d.kind === kind).map((d) => d.sentBeforeAnswer);
      return sent.length > 0 ? Math.max(...sent) : null;
    };
    const checks = [
      {
        name: 'no normal request lost',
        pass: summary.every((s) => s.lost === 0),
        detail: summary.map((s) => `${s.phase}: ${s.lost}`).join(', '),
      },
      {
        name: 'no normal request got another image’s answer',
        pass: summary.every((s) => s.mixed_up === 0),
        detail: summary.map((s) => `${s.phase}: ${s.mixed_up}`).join(', '),
      },
      {
        name: 'every normal request answered 200',
        pass: summary.every((s) => s.not_200 === 0),
        detail: summary
          .map((s) => `${s.phase}: ${s.not_200} (${s.not_200_statuses.join(', ') || '-'})`)
          .join(', '),
      },
      {
        name: 'every abusive request got its documented answer',
        pass: wrongAbuse.length === 0,
        detail: wrongAbuse.join('; ') || 'all as documented',
      },
      {
        name: 'no unexpected error logged',
        pass: requestFailed.length === 0,
        detail: `${requestFailed.length} "request failed" lines`,
      },
      { name: 'still serving after the abuse', pass: after.status === 200, detail: `status ${after.status}` },
      {
        name: 'SIGTERM drains and exits 0',
        pass: stopped.code === 0,
        detail: `exit ${stopped.code} after ${stopped.drainMs} ms`,
      },
    ];
    const p99Ratio = summary[1].latency_ms.all.p99 / summary[0].latency_ms.all.p99;
    const report = {
      registry: path.relative(REPO_ROOT, opts.registry) || opts.registry,
      model: opts.model,
      machine: {
        cpus: os.cpus().length,
        loadavg: load,
        shared: 'other jobs may run: compare the phases, not runs',
      },
      options: opts,
      normal_traffic: summary,
      p99_ratio_abuse_over_baseline: p99Ratio,
      abuse: {
        answers: abuse.counts,
        slowloris_held_max: heldMax,
        largest_body_sent_before_answer_bytes: {
          'declared 200 MB': sentBefore('declared 200 MB'),
          'chunked multipart preamble': sentBefore('chunked multipart preamble'),
        },
      },
      service_log: {
        warnings_and_errors: problems.length,
        first: problems.slice(0, 10),
        last: problems.slice(-40),
      },
      checks,
    };
    await mkdir(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `abuse-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);

    const fmt = (l: { p50: number; p95: number; p99: number; max: number }) =>
      `${l.p50.toFixed(0)}/${l.p95.toFixed(0)}/${l.p99.toFixed(0)}/${l.max.toFixed(0)}`;
    console.log(
      [
        `abuse benchmark of ${opts.model} (${os.cpus().length} CPUs, load average ${load.start.map((l) => l.toFixed(1)).join(' ')} at start, ${load.afterAbuse.map((l) => l.toFixed(1)).join(' ')} after the abuse)`,
        '',
        '| normal traffic | requests | req/s | lost | not 200 | mixed up | crops p50/p95/p99/max ms | photos p50/p95/p99/max ms |',
        '|---|---|---|---|---|---|---|---|',
        ...summary.map(
          (s) =>
            `| ${s.phase} | ${s.requests} | ${s.per_second.toFixed(1)} | ${s.lost} | ${s.not_200} | ${s.mixed_up} | ${fmt(s.latency_ms.crops)} | ${fmt(s.latency_ms.photos)} |`,
        ),
        '',
        `normal traffic p99 under abuse / baseline: ${p99Ratio.toFixed(2)}x`,
        `slowloris connections held at once: up to ${heldMax}`,
        ...Object.entries(abuse.counts).map(
          ([kind, counts]) =>
            `${kind}: ${Object.entries(counts)
              .map(([s, n]) => `${s} x${n}`)
              .join(', ')}`,
        ),
        `body bytes sent before the 413: declared 200 MB upload ≤ ${sentBefore('declared 200 MB')}, chunked preamble ≤ ${sentBefore('chunked multipart preamble')}`,
        '',
        ...checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}`),
        '',
        `written to ${path.relative(REPO_ROOT, file)}`,
      ].join('\n'),
    );
    if (checks.some((c) => !c.pass)) process.exitCode = 1;
  } catch (error) {
    await service.stop().catch(() => undefined);
    throw error;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
