/**
 * `npm run bench:soak`: the service as a real process under mixed traffic for a long time (10
 * minutes by default), at a rate it sustains (a calibrated fraction of what it manages closed-loop),
 * while its registry changes: a new version is published, a broken version is dropped in (copied
 * file by file, as a careless operator would), then another version is published. It checks:
 *   - zero 5xx for valid requests, no request without an answer, invalid requests get exactly
 *     their documented status, and every answer is its own image's (answer keys per weights);
 *   - every published version serves after its publish (and every request sent after it was seen
 *     ready is served by it or a newer one); the broken version is reported failed, never served;
 *   - RSS steady within each stretch between registry events, detector tensors constant;
 *   - SIGTERM at the end drains and exits 0.
 * Writes bench-results/soak-<time>.json and prints a summary; exits 1 when a check fails.
 *
 * Options: --duration S (600), --rate R (req/s; default --load x calibrated), --load F (0.6),
 * --calibrate S (20), --sample S (10), --warmup S (60), --registry DIR --next DIR --model NAME
 * (default: resnet152 at 64 px, seeds 1 and 2, built once with make-model into bench-results/),
 * --config NAME --input-size N, --env KEY=VALUE (repeatable: extra service configuration).
 */
import { access, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { draftOf, METADATA_FILE, publish, type ModelMetadata } from '@fer/shared';
import { summarizeLatency } from '../bench/latency';
import { BENCH_MODEL, FULL_SIZE_MAKE_MODEL_TIMEOUT_MS, makeModel } from '../make-model';
import { metricValue } from '../prometheus-text';
import { faceCrops, photos } from '../bench/workloads';
import { distance, SAME_ANSWER_TOLERANCE, DISTINCT_ANSWER_MARGIN } from '../answer-key';
import { startService, type RunningService } from '../server-process';
import { closedLoop, Mix, OpenLoop, send, type Kind, type RequestSpec } from './traffic';
import { check, segments, tensorCounts, type Check, type Sample } from './verdict';
import { REPO_ROOT, RESULTS_DIR } from '../paths';

/** Clients of the calibration run. */
const CALIBRATION_CONCURRENCY = 24;
/** The open-loop generator's cap on requests in flight (beyond it, it is the bottleneck). */
const MAX_IN_FLIGHT = 256;
/** How often the registry's view (GET /models) is polled for versions becoming ready or failed. */
const MONITOR_MS = 1_000;
/** Allowed RSS drift within a steady stretch, and the fractions of the run when the registry changes. */
const RSS_DRIFT_LIMIT = 0.1;
const PUBLISH_AT = 0.25;
const BROKEN_AT = 0.4;
const REPUBLISH_AT = 0.55;
/** Pause between the files of the broken version's copy (it appears gradually). */
const COPY_STEP_MS = 300;

const VALID_KINDS: ReadonlySet<Kind> = new Set(['crop', 'crop-pinned', 'photo', 'models', 'probe']);
const MIX: [Kind, number][] = [
  ['crop', 55],
  ['crop-pinned', 10],
  ['photo', 10],
  ['invalid', 10],
  ['models', 5],
  ['probe', 7],
  ['broken-pinned', 3],
];

const log = (message: string) => console.error(`[soak] ${message}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '600' },
      rate: { type: 'string' },
      load: { type: 'string', default: '0.6' },
      calibrate: { type: 'string', default: '20' },
      sample: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '60' },
      registry: { type: 'string' },
      next: { type: 'string' },
      model: { type: 'string' },
      config: { type: 'string', default: BENCH_MODEL.config },
      'input-size': { type: 'string', default: String(BENCH_MODEL.inputSize) },
      env: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  const number = (name: string, raw: string | undefined) => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`--${name} must be a positive number, got ${raw}`);
    return value;
  };
  return {
    duration: number('duration', values.duration),
    rate: values.rate === undefined ? null : number('rate', values.rate),
    load: number('load', values.load),
    calibrate: number('calibrate', values.calibrate),
    sample: number('sample', values.sample),
    warmup: Math.min(number('warmup', values.warmup), number('duration', values.duration) / 4),
    registry: values.registry,
    next: values.next,
    model: values.model,
    config: values.config,
    inputSize: Number(values['input-size']),
    env: Object.fromEntries(
      values.env.map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`--env expects KEY=VALUE, got ${pair}`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    ),
  };
}

type Options = ReturnType<typeof options>;

/** Publishes a seeded random-weight backbone with make-model (a subprocess) unless it is there. */
async function cachedModel(registry: string, name: string, opts: Options, seed: number): Promise<void> {
  const built = await access(path.join(registry, name, '1', METADATA_FILE)).then(
    () => true,
    () => false,
  );
  if (built) return;
  log(`building ${name} (${opts.config} at ${opts.inputSize} px, seed ${seed}) with make-model...`);
  await makeModel({
    config: opts.config,
    inputSize: opts.inputSize,
    registry,
    name,
    seed,
    timeoutMs: FULL_SIZE_MAKE_MODEL_TIMEOUT_MS,
  });
}

/** The base registry (version 1 serves first) and the source of the versions published mid-run. */
async function soakModels(opts: Options): Promise<{ base: string; next: string; model: string }> {
  if (opts.registry) {
    if (!opts.next || !opts.model) throw new Error('--registry needs --next DIR and --model NAME');
    return { base: path.resolve(opts.registry), next: path.resolve(opts.next), model: opts.model };
  }
  const model = opts.config;
  const root = path.join(RESULTS_DIR, `soak-${opts.config}-${opts.inputSize}`);
  const base = path.join(root, 'base');
  const next = path.join(root, 'next');
  await cachedModel(base, model, opts, 1);
  await cachedModel(next, model, opts, 2);
  return { base, next, model };
}

async function publishFrom(registry: string, model: string, source: string): Promise<number> {
  const metadata = JSON.parse(await readFile(path.join(source, METADATA_FILE), 'utf8')) as ModelMetadata;
  return (await publish({ root: registry, name: model, sourceDir: source, metadata: draftOf(metadata) }))
    .version;
}

/**
 * Drops a broken version into the registry the careless way: a plain folder filled file by file
 * (metadata first, then the other files), whose model.onnx has the right size but is not a model.
 */
async function dropBrokenVersion(registry: string, model: string, source: string): Promise<number> {
  const numbers = (await readdir(path.join(registry, model)))
    .filter((n) => /^[1-9][0-9]*$/.test(n))
    .map(Number);
  const version = Math.max(...numbers) + 1;
  const dir = path.join(registry, model, String(version));
  await mkdir(dir);
  const metadata = JSON.parse(await readFile(path.join(source, METADATA_FILE), 'utf8')) as ModelMetadata;
  await writeFile(path.join(dir, METADATA_FILE), JSON.stringify({ ...metadata, version }));
  await sleep(COPY_STEP_MS);
  // Every other recorded file (tfjs/, and report/ for trained models) as it is.
  for (const entry of await readdir(source)) {
    if (entry === METADATA_FILE || entry === 'model.onnx') continue;
    await cp(path.join(source, entry), path.join(dir, entry), { recursive: true });
  }
  const size = (await readFile(path.join(source, 'model.onnx'))).length;
  const garbage = Buffer.alloc(size, 0x42);
  const quarter = Math.ceil(size / 4);
  for (let at = 0; at < size; at += quarter) {
    await writeFile(path.join(dir, 'model.onnx'), garbage.subarray(0, Math.min(size, at + quarter)));
    await sleep(COPY_STEP_MS);
  }
  return version;
}

/** How long a broken version may take to be tried and reported failed. */
const BROKEN_FAILURE_TIMEOUT_MS = 120_000;

/** Waits until `version` is reported failed by its load (not by its half-copied files). */
async function waitForLoadFailure(url: string, model: string, version: number): Promise<void> {
  const deadline = Date.now() + BROKEN_FAILURE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const detail = await fetch(`${url}/models/${model}/versions/${version}`)
      .then((r) => r.json() as Promise<{ status?: string; error?: string | null }>)
      .catch(() => null);
    if (detail?.status === 'failed' && !/missing|bytes, expected/.test(detail.error ?? '')) return;
    await sleep(MONITOR_MS);
  }
  throw new Error(`version ${version} was not reported failed within ${BROKEN_FAILURE_TIMEOUT_MS} ms`);
}

/** A key request answered 503 (the service shedding the soak's load) is sent again, this often. */
const KEY_RETRIES = 30;
/** The service's Retry-After for OVERLOADED and NOT_READY. */
const KEY_RETRY_MS = 1_000;

/** Probabilities of each crop when it is sent alone to `version`. */
async function answersOf(url: string, crops: Buffer[], version: number): Promise<Record<string, number>[]> {
  const answers: Record<string, number>[] = [];
  for (const crop of crops) {
    const request = {
      kind: 'crop-pinned',
      method: 'POST',
      path: `/predict?crop=none&version=${version}`,
      headers: { 'content-type': 'image/jpeg' },
      body: crop,
      expect: 200,
    } as const;
    let outcome = await send(url, request, performance.now());
    // Under the soak's own load the service may shed a key request with 503: that is its
    // contract, not a wrong answer, so wait as Retry-After says and ask again.
    for (let retry = 0; outcome.status === 503 && retry < KEY_RETRIES; retry++) {
      await sleep(KEY_RETRY_MS);
      outcome = await send(url, request, performance.now());
    }
    if (outcome.status !== 200 || !outcome.probabilities)
      throw new Error(`key request to v${version}: ${outcome.status}`);
    answers.push(outcome.probabilities);
  }
  return answers;
}

/** Indices of crops whose answers differ pairwise enough that a swap would be seen. */
function distinctIndices(answers: Record<string, number>[]): number[] {
  const kept: number[] = [];
  for (let i = 0; i < answers.length; i++) {
    if (kept.every((j) => distance(answers[i], answers[j]) > DISTINCT_ANSWER_MARGIN)) kept.push(i);
  }
  return kept;
}

interface InvalidRequest {
  name: string;
  spec: Omit<RequestSpec, 'kind'>;
}

async function invalidRequests(crop: Buffer): Promise<InvalidRequest[]> {
  const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#777777' } })
    .gif()
    .toBuffer();
  const jpeg = { 'content-type': 'image/jpeg' };
  const post = (p: string, body: Buffer, headers = jpeg) => ({
    method: 'POST' as const,
    path: p,
    headers,
    body,
  });
  return [
    { name: 'bad query', spec: { ...post('/predict?crop=sideways', crop), expect: 400 } },
    { name: 'empty body', spec: { ...post('/predict', Buffer.alloc(0)), expect: 400 } },
    { name: 'truncated jpeg', spec: { ...post('/predict?crop=none', crop.subarray(0, 100)), expect: 422 } },
    { name: 'gif', spec: { ...post('/predict', gif), expect: 415 } },
    {
      name: 'text body',
      spec: { ...post('/predict', Buffer.from('hi'), { 'content-type': 'text/plain' }), expect: 415 },
    },
    { name: 'unknown model', spec: { ...post('/predict?model=no-such-model', crop), expect: 404 } },
  ];
}

interface VersionEvents {
  publishedAt?: number;
  readyAt?: number;
  failedAt?: number;
}

type Outcomes = OpenLoop['outcomes'];
type Workload = Awaited<ReturnType<typeof faceCrops>>;
type PhotoSet = NonNullable<Awaited<ReturnType<typeof photos>>>;

/** The real photos when ../shared has them, else drawn pictures without faces. */
async function photoWorkload(): Promise<PhotoSet> {
  return (
    (await photos()) ?? {
      bodies: await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          sharp({
            create: {
              width: 640,
              height: 480,
              channels: 3,
              background: { r: 30 * i, g: 120, b: 200 - 20 * i },
            },
          })
            .jpeg()
            .toBuffer(),
        ),
      ),
      source: 'drawn (no faces)',
    }
  );
}

/**
 * The soak's request generator: kinds drawn from MIX; pinned requests to the broken version only
 * once `brokenVersion()` names it and `allowBroken` (the calibration never sends them).
 */
function requestMaker(
  crops: Workload,
  used: readonly number[],
  photoSet: PhotoSet,
  invalid: readonly InvalidRequest[],
  brokenVersion: () => number | null,
): (allowBroken: boolean) => RequestSpec {
  const mix = new Mix(MIX, 7);
  return (allowBroken) => {
    let kind = mix.next();
    if (kind === 'broken-pinned' && (!allowBroken || brokenVersion() === null)) kind = 'crop';
    const pick = <T>(items: readonly T[]) => items[Math.floor(mix.random() * items.length)];
    switch (kind) {
      case 'crop':
      case 'crop-pinned':
      case 'broken-pinned': {
        const index = pick(used);
        const query = kind === 'crop' ? '' : `&version=${kind === 'crop-pinned' ? 1 : brokenVersion()}`;
        return {
          kind,
          index,
          method: 'POST',
          path: `/predict?crop=none${query}`,
          headers: { 'content-type': 'image/jpeg' },
          body: crops.bodies[index],
          expect: kind === 'broken-pinned' ? 404 : 200,
        };
      }
      case 'photo':
        return {
          kind,
          method: 'POST',
          path: '/predict',
          headers: { 'content-type': 'image/jpeg' },
          body: pick(photoSet.bodies),
          expect: 200,
        };
      case 'invalid':
        return { kind, ...pick(invalid).spec };
      case 'models':
        return { kind, method: 'GET', path: '/models', expect: 200 };
      case 'probe':
        return { kind, method: 'GET', path: mix.random() < 0.5 ? '/healthz' : '/readyz', expect: 200 };
    }
  };
}

/** The soak's rate: --rate, or --load times what the service answers closed-loop with this mix. */
async function soakRate(
  url: string,
  opts: Options,
  make: (allowBroken: boolean) => RequestSpec,
): Promise<{ rate: number; calibrated: number | null }> {
  if (opts.rate !== null) return { rate: opts.rate, calibrated: null };
  log(`calibrating: ${CALIBRATION_CONCURRENCY} clients for ${opts.calibrate} s...`);
  const { outcomes, seconds } = await closedLoop(url, CALIBRATION_CONCURRENCY, opts.calibrate, () =>
    make(false),
  );
  const calibrated = outcomes.filter((o) => o.status === o.expect).length / seconds;
  const rate = Math.max(1, Math.round(calibrated * opts.load * 10) / 10);
  log(`calibration: ${calibrated.toFixed(1)} answers/s closed-loop; soak rate ${rate} req/s (x${opts.load})`);
  return { rate, calibrated };
}

/** What the soak watches while it runs: the model's versions (GET /models) and memory (GET /metrics). */
interface Watch {
  versions: Map<number, VersionEvents>;
  samples: Sample[];
  stopped(): boolean;
  stop(): Promise<void>;
}

function watchService(url: string, model: string, sampleS: number, now: () => number): Watch {
  const versions = new Map<number, VersionEvents>();
  const samples: Sample[] = [];
  let stopping = false;
  const monitor = (async () => {
    while (!stopping) {
      const listed = await fetch(`${url}/models`)
        .then(
          (r) =>
            r.json() as Promise<{
              models: { name: string; versions: { version: number; status: string }[] }[];
            }>,
        )
        .catch(() => null);
      // An error answer (no `models`) is counted by the traffic's own /models requests, not here.
      for (const v of listed?.models?.find((m) => m.name === model)?.versions ?? []) {
        const events = versions.get(v.version) ?? {};
        if (v.status === 'ready' && events.readyAt === undefined) events.readyAt = now();
        if (v.status === 'failed' && events.failedAt === undefined) events.failedAt = now();
        versions.set(v.version, events);
      }
      await sleep(MONITOR_MS);
    }
  })();
  const sampler = (async () => {
    while (!stopping) {
      const text = await fetch(`${url}/metrics`)
        .then((r) => r.text())
        .catch(() => '');
      if (text) {
        samples.push({
          t: now(),
          rss: metricValue(text, 'process_resident_memory_bytes'),
          heap: metricValue(text, 'nodejs_heap_size_used_bytes'),
          detectorTensors: /^fer_face_detector_tensors /m.test(text)
            ? metricValue(text, 'fer_face_detector_tensors')
            : null,
        });
      }
      await sleep(sampleS * 1000);
    }
  })();
  return {
    versions,
    samples,
    stopped: () => stopping,
    stop: async () => {
      stopping = true;
      await Promise.all([monitor, sampler]);
    },
  };
}

/** One progress line a minute: rate, crop latency, unexpected answers, memory. */
function logProgress(loop: OpenLoop, samples: readonly Sample[], now: () => number): NodeJS.Timeout {
  return setInterval(() => {
    const recent = loop.outcomes.filter((o) => o.t > now() - 60);
    const latency = summarizeLatency(recent.filter((o) => o.kind === 'crop').map((o) => o.ms));
    const unexpected = recent.filter((o) => o.status !== o.expect);
    const bad =
      unexpected.length === 0
        ? '0'
        : `${unexpected.length} (${unexpected
            .map((o) => `${o.kind} ${o.status}`)
            .slice(0, 5)
            .join(', ')})`;
    const last = samples.at(-1);
    log(
      `t=${now().toFixed(0)} s: ${(recent.length / 60).toFixed(1)} answers/s over the last minute, crops p50/p99 ` +
        `${latency.p50?.toFixed(0)}/${latency.p99?.toFixed(0)} ms, unexpected ${bad}, ` +
        `rss ${last ? (last.rss / 2 ** 20).toFixed(0) : '?'} MB, detector tensors ${last?.detectorTensors ?? '?'}`,
    );
  }, 60_000);
}

/** Where the registry's changes stand, for the traffic (brokenVersion) and the verdict. */
interface RegistryChanges {
  /** The versions published mid-run (served), in order. */
  published: number[];
  /** The version dropped in broken, once its load has failed. */
  brokenVersion: number | null;
  /** Seconds into the run of each change. */
  events: number[];
}

/**
 * The registry's three changes at their fractions of the run: a new version (other weights), a
 * broken one copied file by file, then the first weights again. Each published version's answer
 * key joins `keys` once it serves.
 */
async function changeRegistry(
  run: {
    url: string;
    registry: string;
    model: string;
    sources: { base: string; next: string };
    crops: Workload;
    keyAnswers: Record<string, number>[];
    durationS: number;
    origin: number;
    now: () => number;
  },
  watch: Watch,
  keys: Map<number, Record<string, number>[]>,
  changes: RegistryChanges,
): Promise<void> {
  const { url, registry, model, sources, crops, now, origin } = run;
  const { versions } = watch;
  const at = async (fraction: number, what: string, action: () => Promise<void>) => {
    const wait = fraction * run.durationS * 1000 - (performance.now() - origin);
    if (wait > 0) await sleep(wait);
    log(`t=${now().toFixed(0)} s: ${what}`);
    changes.events.push(now());
    await action();
  };
  await at(PUBLISH_AT, 'publishing a new version (other weights)', async () => {
    const version = await publishFrom(registry, model, sources.next);
    versions.set(version, { ...versions.get(version), publishedAt: now() });
    changes.published = [version];
    // Its answer key, as soon as it serves (pinned requests, one at a time).
    void (async () => {
      while (versions.get(version)?.readyAt === undefined && !watch.stopped()) await sleep(MONITOR_MS);
      if (!watch.stopped()) keys.set(version, await answersOf(url, crops.bodies, version));
    })();
  });
  await at(BROKEN_AT, 'dropping a broken version in, file by file', async () => {
    const version = await dropBrokenVersion(registry, model, sources.base);
    versions.set(version, { ...versions.get(version), publishedAt: now() });
    // Requests pinned to it join the mix once its load has failed: while it loads they would
    // rightly get 503 NOT_READY, and half-copied it is already (rightly) refused with 404.
    await waitForLoadFailure(url, model, version);
    log(`t=${now().toFixed(0)} s: version ${version} failed to load, as it should`);
    changes.brokenVersion = version;
  });
  await at(REPUBLISH_AT, 'publishing another version (the first weights again)', async () => {
    const version = await publishFrom(registry, model, sources.base);
    versions.set(version, { ...versions.get(version), publishedAt: now() });
    keys.set(version, run.keyAnswers);
    changes.published = [...changes.published, version];
  });
}

/** Each published version's events and when unpinned traffic first got an answer from it. */
function publishedReport(changes: RegistryChanges, versions: Map<number, VersionEvents>, outcomes: Outcomes) {
  const unpinned = unpinnedAnswers(outcomes);
  return changes.published.map((v) => {
    const events = versions.get(v) ?? {};
    // Outcomes are in the order answers came back: the first served is the earliest sent.
    const sent = unpinned.filter((o) => o.version === v).map((o) => o.t);
    return { version: v, ...events, firstServedAt: sent.length > 0 ? Math.min(...sent) : null };
  });
}

function unpinnedAnswers(outcomes: Outcomes): Outcomes {
  return outcomes.filter((o) => (o.kind === 'crop' || o.kind === 'photo') && o.status === 200);
}

/** The soak's checks over everything it recorded. */
function verdict(
  outcomes: Outcomes,
  run: {
    keys: Map<number, Record<string, number>[]>;
    changes: RegistryChanges;
    versions: Map<number, VersionEvents>;
    steady: ReturnType<typeof segments>;
    tensors: number[];
    requestFailedLines: string[];
    skipped: number;
    stopped: { code: number | null; drainMs: number };
  },
): Check[] {
  const { keys, changes, versions, steady, tensors, requestFailedLines, stopped } = run;
  const brokenVersion = changes.brokenVersion;
  const valid = outcomes.filter((o) => VALID_KINDS.has(o.kind));
  const fiveXX = valid.filter((o) => o.status >= 500);
  const lost = outcomes.filter((o) => o.status === 0);
  const wrongStatus = outcomes.filter(
    (o) => o.status !== 0 && o.status !== o.expect && !(o.status >= 500 && VALID_KINDS.has(o.kind)),
  );
  const mixedUp = outcomes.filter((o) => {
    if (o.status !== 200 || o.index === undefined || !o.probabilities || o.version === undefined)
      return false;
    const key = keys.get(o.version);
    return key !== undefined && distance(key[o.index], o.probabilities) > SAME_ANSWER_TOLERANCE;
  });
  const unkeyed = outcomes.filter(
    (o) => o.status === 200 && o.index !== undefined && o.version !== undefined && !keys.has(o.version),
  );
  const readyTimes = [1, ...changes.published]
    .map((v) => ({ v, at: v === 1 ? 0 : versions.get(v)?.readyAt }))
    .filter((x): x is { v: number; at: number } => x.at !== undefined)
    .sort((a, b) => a.at - b.at);
  const expectedAt = (t: number) => readyTimes.filter((r) => r.at <= t).at(-1)?.v ?? 1;
  const staleVersion = unpinnedAnswers(outcomes).filter((o) => (o.version ?? 0) < expectedAt(o.t));
  const servedBroken = outcomes.filter((o) => brokenVersion !== null && o.version === brokenVersion);
  const published = publishedReport(changes, versions, outcomes);

  return [
    check('zero 5xx for valid requests', fiveXX.length === 0, `${fiveXX.length} of ${valid.length}`),
    check(
      'every request answered',
      lost.length === 0,
      `${lost.length} without an answer of ${outcomes.length}`,
    ),
    check(
      'invalid requests get their documented status',
      wrongStatus.length === 0,
      `${wrongStatus.length} unexpected`,
    ),
    check(
      'every answer is its own image’s',
      mixedUp.length === 0,
      `${mixedUp.length} mixed up, ${unkeyed.length} not checkable`,
    ),
    check(
      'every published version serves after its publish',
      published.every((p) => p.readyAt !== undefined && p.firstServedAt !== null) &&
        staleVersion.length === 0,
      published
        .map(
          (p) =>
            `v${p.version}: ready ${((p.readyAt ?? NaN) - (p.publishedAt ?? NaN)).toFixed(1)} s after publish, first served at t=${p.firstServedAt?.toFixed(1) ?? '-'} s`,
        )
        .join('; ') + `; ${staleVersion.length} answers by an older version after a newer was ready`,
    ),
    check(
      'the broken version is reported failed and never served',
      brokenVersion !== null &&
        versions.get(brokenVersion)?.failedAt !== undefined &&
        servedBroken.length === 0,
      `v${brokenVersion}: failed at t=${versions.get(brokenVersion ?? -1)?.failedAt?.toFixed(1) ?? '-'} s, served ${servedBroken.length} times`,
    ),
    check(
      `RSS steady (within ±${RSS_DRIFT_LIMIT * 100}%) between registry events`,
      steady.every((s) => s.rssDrift === null || Math.abs(s.rssDrift) <= RSS_DRIFT_LIMIT),
      steady
        .map(
          (s) =>
            `${s.from.toFixed(0)}-${s.to.toFixed(0)} s: ${s.rssDrift === null ? 'too short' : `${(s.rssDrift * 100).toFixed(1)}%`}`,
        )
        .join(', '),
    ),
    check('face-detector tensors constant', tensors.length <= 1, `seen: ${tensors.join(', ') || 'none'}`),
    check(
      'no unexpected server error logged',
      requestFailedLines.length === 0,
      `${requestFailedLines.length} "request failed" lines`,
    ),
    check(
      'the rate was sustained (generator never saturated)',
      run.skipped === 0,
      `${run.skipped} requests skipped`,
    ),
    check(
      'SIGTERM drains and exits 0',
      stopped.code === 0,
      `exit ${stopped.code} after ${stopped.drainMs} ms`,
    ),
  ];
}

/** Answers per kind and status (`no answer (<error>)` for a lost request). */
function answersByKind(outcomes: Outcomes): Record<string, Record<string, number>> {
  const byKind: Record<string, Record<string, number>> = {};
  for (const o of outcomes) {
    byKind[o.kind] ??= {};
    const key = o.status === 0 ? `no answer (${o.error})` : String(o.status);
    byKind[o.kind][key] = (byKind[o.kind][key] ?? 0) + 1;
  }
  return byKind;
}

/** First, largest and last of a sampled memory figure, in MB. */
function memoryRange(samples: readonly Sample[], figure: 'rss' | 'heap') {
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  return {
    first: mb(samples[0]?.[figure] ?? 0),
    max: mb(Math.max(...samples.map((s) => s[figure]))),
    last: mb(samples.at(-1)?.[figure] ?? 0),
  };
}

type SoakReport = ReturnType<typeof soakReport>;

function soakReport(run: {
  model: string;
  base: string;
  opts: Options;
  rate: number;
  calibrated: number | null;
  outcomes: Outcomes;
  changes: RegistryChanges;
  versions: Map<number, VersionEvents>;
  final: unknown;
  samples: Sample[];
  steady: ReturnType<typeof segments>;
  tensors: number[];
  problems: string[];
  requestFailedLines: string[];
  stopped: { code: number | null; drainMs: number };
  checks: Check[];
}) {
  const { outcomes, changes, versions, samples } = run;
  return {
    model: run.model,
    registry: path.relative(REPO_ROOT, run.base) || run.base,
    duration_s: run.opts.duration,
    calibrated_answers_per_s: run.calibrated,
    rate_per_s: run.rate,
    requests: outcomes.length,
    answers_per_s: outcomes.length / run.opts.duration,
    by_kind: answersByKind(outcomes),
    latency_ms: Object.fromEntries(
      (['crop', 'crop-pinned', 'photo'] as const).map((kind) => [
        kind,
        summarizeLatency(outcomes.filter((o) => o.kind === kind && o.status === 200).map((o) => o.ms)),
      ]),
    ),
    registry_events: {
      published: publishedReport(changes, versions, outcomes),
      broken: { version: changes.brokenVersion, ...versions.get(changes.brokenVersion ?? -1) },
    },
    final_models: run.final,
    memory: {
      rss_mb: memoryRange(samples, 'rss'),
      heap_mb: memoryRange(samples, 'heap'),
      segments: run.steady,
      detector_tensors: run.tensors,
      samples,
    },
    service_log: {
      warnings_and_errors: run.problems.length,
      request_failed: run.requestFailedLines.length,
      lines: run.problems.slice(0, 50),
    },
    drain: run.stopped,
    checks: run.checks,
  };
}

/** Writes bench-results/soak-<time>.json and prints the summary. */
async function writeReport(report: SoakReport, load: number): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  const { calibrated_answers_per_s: calibrated, rate_per_s: rate, duration_s: duration } = report;
  const lines = [
    `soak of ${report.model}: ${duration} s at ${rate} req/s${calibrated ? ` (${load} x ${calibrated.toFixed(1)} calibrated)` : ''}, ${report.requests} requests`,
    '',
    '| kind | answers |',
    '|---|---|',
    ...Object.entries(report.by_kind).map(
      ([kind, counts]) =>
        `| ${kind} | ${Object.entries(counts)
          .map(([s, n]) => `${s}: ${n}`)
          .join(', ')} |`,
    ),
    '',
    ...Object.entries(report.latency_ms).map(
      ([kind, l]) =>
        `${kind} latency p50/p95/p99/max: ${l.p50?.toFixed(0)}/${l.p95?.toFixed(0)}/${l.p99?.toFixed(0)}/${l.max?.toFixed(0)} ms`,
    ),
    `RSS ${report.memory.rss_mb.first} -> ${report.memory.rss_mb.last} MB (max ${report.memory.rss_mb.max}), heap ${report.memory.heap_mb.first} -> ${report.memory.heap_mb.last} MB`,
    '',
    ...report.checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}`),
    '',
    `written to ${path.relative(REPO_ROOT, file)}`,
  ];
  console.log(lines.join('\n'));
}

async function main(): Promise<void> {
  const opts = options();
  const { base, next, model } = await soakModels(opts);
  const registry = await mkdtemp(path.join(os.tmpdir(), 'fer-soak-registry-'));
  await cp(path.join(base, model), path.join(registry, model), { recursive: true });
  const sources = { next: path.join(next, model, '1'), base: path.join(base, model, '1') };
  const crops = await faceCrops();
  const photoSet = await photoWorkload();

  log(`starting the service over ${model} (${path.relative(REPO_ROOT, base) || base})...`);
  let service: RunningService | null = await startService({
    REGISTRY_DIR: registry,
    DEFAULT_MODEL: model,
    ...opts.env,
  });
  const url = service.url;
  try {
    // Answer keys by weights: seed 1 (versions 1 and the republished one), seed 2 (the first publish).
    const keyAnswers = await answersOf(url, crops.bodies, 1);
    const used = distinctIndices(keyAnswers);
    log(`${used.length} of ${crops.bodies.length} crops (${crops.source}) have distinct answers: the key`);
    if (used.length < 4) throw new Error('too few crops with distinct answers to check for mix-ups');
    const keys = new Map<number, Record<string, number>[]>([[1, keyAnswers]]);

    const changes: RegistryChanges = { published: [], brokenVersion: null, events: [] };
    const invalid = await invalidRequests(crops.bodies[0]);
    const make = requestMaker(crops, used, photoSet, invalid, () => changes.brokenVersion);
    const { rate, calibrated } = await soakRate(url, opts, make);

    const origin = performance.now();
    const now = () => (performance.now() - origin) / 1000;
    const watch = watchService(url, model, opts.sample, now);
    const loop = new OpenLoop(url, rate, MAX_IN_FLIGHT, () => make(true), origin);
    log(`soaking for ${opts.duration} s at ${rate} req/s...`);
    loop.start();
    const progress = logProgress(loop, watch.samples, now);
    const run = { url, registry, model, sources, crops, keyAnswers, durationS: opts.duration, origin, now };
    await changeRegistry(run, watch, keys, changes);
    const remaining = opts.duration * 1000 - (performance.now() - origin);
    if (remaining > 0) await sleep(remaining);
    clearInterval(progress);
    await loop.stop();
    await watch.stop();
    const final: unknown = await fetch(`${url}/models`).then((r) => r.json());
    const problems = service.logLines();
    const stopped = await service.stop();
    service = null;

    const outcomes = loop.outcomes;
    const steady = segments(watch.samples, changes.events, opts.warmup);
    const tensors = tensorCounts(watch.samples, opts.warmup);
    const requestFailedLines = problems.filter((line) => line.includes('"request failed"'));
    const checks = verdict(outcomes, {
      keys,
      changes,
      versions: watch.versions,
      steady,
      tensors,
      requestFailedLines,
      skipped: loop.skipped,
      stopped,
    });
    await writeReport(
      soakReport({
        model,
        base,
        opts,
        rate,
        calibrated,
        outcomes,
        changes,
        versions: watch.versions,
        final,
        samples: watch.samples,
        steady,
        tensors,
        problems,
        requestFailedLines,
        stopped,
        checks,
      }),
      opts.load,
    );
    if (checks.some((c) => !c.pass)) process.exitCode = 1;
  } finally {
    if (service) await service.stop().catch(() => undefined);
    await rm(registry, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
