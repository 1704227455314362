/**
 * The service's whole configuration: one zod schema over environment variables, checked once at
 * start-up. Nothing else in the service reads `process.env`; everything receives a `Config`.
 * A bad value stops the process at once with a message naming the variable, instead of surfacing
 * later as a confusing runtime error.
 */
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { BACKEND_NAMES } from '@fer/shared';
import { RUNTIME_KINDS } from './runtime/types';
import { BLAZEFACE_BACK } from './faces/detector-files';

/** The project's own registry: what `npm start` serves when REGISTRY_DIR is not set. */
export const DEFAULT_REGISTRY_DIR = path.resolve(__dirname, '../../../models');
/** The study page the Models view shows (docs/study, written by `npm run study-page`). */
export const DEFAULT_STUDY_DIR = path.resolve(__dirname, '../../../docs/study');
/**
 * The model trained on this project's CPU and shipped in models/ (README, "The default model"): three
 * resnet-small runs averaged, each also on the mirror image of the face.
 */
export const SHIPPED_DEFAULT_MODEL = 'resnet-small-x3';

/** How much longer than the request and upload timeouts the idle timeout is by default. */
const IDLE_MARGIN_MS = 10_000;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** blazeface: MediaPipe BlazeFace in ONNX Runtime (the default); tiny, ssd: face-api on TF.js. */
export const DETECTOR_KINDS = ['blazeface', 'tiny', 'ssd'] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];
/**
 * Per-detector defaults, chosen with `measure-detectors` (README, "Face detection"): BlazeFace sees
 * a copy whose longest side is its 256-px input (the JPEG is decoded at that size: shrink-on-load);
 * face-api's detectors a 640-px copy.
 */
export const DETECTOR_DEFAULTS: Record<DetectorKind, { minScore: number; maxSide: number }> = {
  blazeface: { minScore: 0.6, maxSide: 256 },
  tiny: { minScore: 0.3, maxSide: 640 },
  ssd: { minScore: 0.3, maxSide: 640 },
};

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const number = (min: number, max: number) => z.coerce.number().min(min).max(max);
const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
/** Comma-separated list; blanks removed, so "" and "a,,b" are fine. */
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

/**
 * Environment variables and their defaults. The batching and detector defaults are the values the
 * `bench:service` benchmark justified on a 2-core machine (see README, "Inference service").
 */
export const envSchema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),

  REGISTRY_DIR: z.string().min(1).default(DEFAULT_REGISTRY_DIR),
  /**
   * Model a request without `model` gets: by default the one shipped in models/. While it has no
   * loaded version (a name the registry lacks included), such requests fail over (FALLBACK_MODEL).
   */
  DEFAULT_MODEL: z.string().default(SHIPPED_DEFAULT_MODEL),
  /**
   * Model that requests without `model` get while the default model has no loaded version (its
   * versions failed, were removed or are reloading); empty: the first loaded model by name.
   */
  FALLBACK_MODEL: z.string().default(''),
  /** Load only the newest N valid versions of each model; 0 loads all. */
  MODEL_VERSIONS_LOADED: int(0).default(0),
  /** Periodic rescan of the registry, in case a file-system watch event is missed (network mounts). */
  REGISTRY_RESCAN_MS: int(100).default(30_000),
  REGISTRY_WATCH: boolean.default(true),
  /** The study page served at /study/ for the demo page; absent, the page shows no study. */
  STUDY_DIR: z.string().min(1).default(DEFAULT_STUDY_DIR),

  RUNTIME: z.enum(RUNTIME_KINDS).default('onnx'),
  DEVICE: z.enum(['cpu', 'cuda']).default('cpu'),
  /** Intra-op threads for each loaded model; 0 lets the runtime use every core. */
  RUNTIME_THREADS: int(0, 256).default(0),
  TFJS_BACKEND: z.enum(BACKEND_NAMES).optional(),

  BATCH_MAX_SIZE: int(1, 1024).default(16),
  BATCH_MAX_DELAY_MS: int(0, 10_000).default(4),
  BATCH_MAX_QUEUE: int(1, 100_000).default(256),
  /** Deadline of one /predict request, from arrival to answer; later answers are 504 TIMEOUT. */
  REQUEST_TIMEOUT_MS: int(1, 600_000).default(15_000),

  /** The whole request body, whatever its content type (413 before the rest is read). */
  MAX_BODY_BYTES: int(1024, 1024 ** 3).default(10 * 1024 * 1024),
  MAX_IMAGE_PIXELS: int(1, 1_000_000_000).default(40_000_000),
  /** Most faces classified in one image (the largest ones); a request may ask for fewer. */
  MAX_FACES: int(1, 1000).default(32),
  /**
   * Images with more pixels than this are "large": at most DECODE_LARGE_CONCURRENCY of them are
   * decoded at once, so they never hold every libuv thread and smaller images never wait for them.
   */
  DECODE_LARGE_PIXELS: int(1, 1_000_000_000).default(4_000_000),
  DECODE_LARGE_CONCURRENCY: int(1, 64).default(1),
  /** Large images allowed to wait for a decode slot; beyond it 503 OVERLOADED. */
  DECODE_MAX_QUEUE: int(0, 100_000).default(16),

  /** Time for a client to send its request line and headers (Node's headersTimeout); 408 after it. */
  HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  /** Time for a client to send its whole request, headers and body (Fastify's requestTimeout); 408 after it. */
  UPLOAD_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  /**
   * A connection with no traffic either way for this long is closed (Fastify's connectionTimeout);
   * by default 10 s more than the longer of REQUEST_TIMEOUT_MS and UPLOAD_TIMEOUT_MS, so a stalled
   * upload gets its 408 first and a long computation its answer.
   */
  IDLE_TIMEOUT_MS: int(100, 3_600_000).optional(),
  /** An idle keep-alive connection is closed after this (longer than common load balancers' 60 s). */
  KEEP_ALIVE_TIMEOUT_MS: int(100, 3_600_000).default(72_000),

  DETECTOR: z.enum(DETECTOR_KINDS).default('blazeface'),
  /** BlazeFace's .onnx file (default: the vendored full-range model, detectors/blazeface). */
  DETECTOR_MODEL: z.string().min(1).default(BLAZEFACE_BACK),
  /** Worker threads running the face detector; 0 means one per available core. */
  DETECTOR_WORKERS: int(0, 64).default(0),
  /** Side of the square the tiny detector's network sees (a multiple of 32). */
  DETECTOR_INPUT_SIZE: int(128, 1024).default(416),
  /** Default per detector: DETECTOR_DEFAULTS. */
  DETECTOR_MIN_SCORE: number(0.05, 0.99).optional(),
  /** Longest side of the downscaled copy the detector runs on; default per detector: DETECTOR_DEFAULTS. */
  DETECTOR_MAX_SIDE: int(128, 4096).optional(),

  /** Comma-separated API keys accepted in `x-api-key`; empty turns authentication off. */
  API_KEYS: list.default([]),
  /** Comma-separated origins allowed by CORS; empty disables CORS headers, "*" allows any origin. */
  CORS_ORIGINS: list.default([]),
  /**
   * Requests per window per API key (or client IP without one); 0, the default, disables rate
   * limiting: behind a proxy every client shares its address, and one client usefully sends
   * hundreds of requests a second.
   */
  RATE_LIMIT_MAX: int(0).default(0),
  RATE_LIMIT_WINDOW_MS: int(100).default(60_000),
  /**
   * Whose X-Forwarded-For to believe for the client address (rate limits, logs): "false" (no one),
   * "true" (anyone: only behind a proxy that overwrites the header), a number of proxy hops, or
   * comma-separated proxy addresses/CIDRs.
   */
  TRUST_PROXY: z.string().default('false'),

  /** How long a SIGTERM/SIGINT waits for queued and running work before the process exits. */
  DRAIN_TIMEOUT_MS: int(0, 600_000).default(20_000),
});

export type Env = z.input<typeof envSchema>;

/** Fastify's `trustProxy`: nobody, everybody, a number of hops, or the proxies' addresses. */
export type TrustProxy = boolean | number | string[];

/**
 * TRUST_PROXY's value as Fastify's `trustProxy`, or null when it is none of the accepted forms.
 *
 * @example parseTrustProxy('1') // 1
 * @example parseTrustProxy('10.0.0.0/8, 127.0.0.1') // ['10.0.0.0/8', '127.0.0.1']
 */
export function parseTrustProxy(value: string): TrustProxy | null {
  const text = value.trim().toLowerCase();
  if (text === 'false' || text === '0' || text === 'no') return false;
  if (text === 'true' || text === 'yes') return true;
  if (/^[1-9][0-9]{0,1}$/.test(text)) return Number(text);
  const addresses = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  const address = /^[0-9a-f.:]+(\/[0-9]{1,3})?$/;
  return addresses.length > 0 && addresses.every((item) => address.test(item)) ? addresses : null;
}

export interface Config {
  port: number;
  host: string;
  logLevel: (typeof LOG_LEVELS)[number];
  registry: {
    dir: string;
    defaultModel: string | null;
    fallbackModel: string | null;
    versionsLoaded: number;
    rescanMs: number;
    watch: boolean;
  };
  studyDir: string;
  runtime: {
    kind: (typeof RUNTIME_KINDS)[number];
    device: 'cpu' | 'cuda';
    threads: number | undefined;
    tfjsBackend: (typeof BACKEND_NAMES)[number] | undefined;
  };
  batching: { maxBatchSize: number; maxDelayMs: number; maxQueue: number };
  limits: { requestTimeoutMs: number; maxBodyBytes: number; maxImagePixels: number; maxFaces: number };
  decode: { largePixels: number; largeConcurrency: number; maxQueue: number };
  http: {
    headersTimeoutMs: number;
    uploadTimeoutMs: number;
    idleTimeoutMs: number;
    keepAliveTimeoutMs: number;
    trustProxy: TrustProxy;
  };
  detector: {
    kind: DetectorKind;
    /** BlazeFace's model file (unused by the TF.js detectors). */
    modelPath: string;
    workers: number;
    inputSize: number;
    minScore: number;
    maxSide: number;
  };
  security: { apiKeys: string[]; corsOrigins: string[]; rateLimitMax: number; rateLimitWindowMs: number };
  drainTimeoutMs: number;
}

/** Thrown when the environment does not describe a valid configuration; lists every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses and checks the environment into a `Config`.
 *
 * @example const config = loadConfig(process.env); // in server.ts only
 * @example loadConfig({ PORT: 'x' }) // throws ConfigError: "PORT: Invalid input: expected number, received NaN"
 * @throws ConfigError naming every invalid variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // Empty strings mean "not set", as in most shells' `VAR= command`.
  const present = Object.fromEntries(
    Object.keys(envSchema.shape)
      .map((key) => [key, env[key]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.DETECTOR === 'tiny' && e.DETECTOR_INPUT_SIZE % 32 !== 0) {
    problems.push(`DETECTOR_INPUT_SIZE: must be a multiple of 32 for the tiny detector`);
  }
  // Node refuses a server whose headers may take longer than the whole request.
  if (e.HEADERS_TIMEOUT_MS > e.UPLOAD_TIMEOUT_MS) {
    problems.push(`HEADERS_TIMEOUT_MS: must not exceed UPLOAD_TIMEOUT_MS (${e.UPLOAD_TIMEOUT_MS})`);
  }
  // No bytes flow while a request is computed: a shorter idle timeout would cut answers off.
  const idleTimeoutMs =
    e.IDLE_TIMEOUT_MS ?? Math.max(e.REQUEST_TIMEOUT_MS, e.UPLOAD_TIMEOUT_MS) + IDLE_MARGIN_MS;
  if (idleTimeoutMs <= e.REQUEST_TIMEOUT_MS) {
    problems.push(`IDLE_TIMEOUT_MS: must exceed REQUEST_TIMEOUT_MS (${e.REQUEST_TIMEOUT_MS})`);
  }
  const trustProxy = parseTrustProxy(e.TRUST_PROXY);
  if (trustProxy === null) {
    problems.push(
      'TRUST_PROXY: expected true, false, a number of proxy hops, or comma-separated addresses/CIDRs',
    );
  }
  if (problems.length > 0 || trustProxy === null) throw new ConfigError(problems);
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    registry: {
      dir: path.resolve(e.REGISTRY_DIR),
      defaultModel: e.DEFAULT_MODEL === '' ? null : e.DEFAULT_MODEL,
      fallbackModel: e.FALLBACK_MODEL === '' ? null : e.FALLBACK_MODEL,
      versionsLoaded: e.MODEL_VERSIONS_LOADED,
      rescanMs: e.REGISTRY_RESCAN_MS,
      watch: e.REGISTRY_WATCH,
    },
    studyDir: path.resolve(e.STUDY_DIR),
    runtime: {
      kind: e.RUNTIME,
      device: e.DEVICE,
      threads: e.RUNTIME_THREADS === 0 ? undefined : e.RUNTIME_THREADS,
      tfjsBackend: e.TFJS_BACKEND,
    },
    batching: {
      maxBatchSize: e.BATCH_MAX_SIZE,
      maxDelayMs: e.BATCH_MAX_DELAY_MS,
      maxQueue: e.BATCH_MAX_QUEUE,
    },
    limits: {
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxImagePixels: e.MAX_IMAGE_PIXELS,
      maxFaces: e.MAX_FACES,
    },
    decode: {
      largePixels: e.DECODE_LARGE_PIXELS,
      largeConcurrency: e.DECODE_LARGE_CONCURRENCY,
      maxQueue: e.DECODE_MAX_QUEUE,
    },
    http: {
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
      uploadTimeoutMs: e.UPLOAD_TIMEOUT_MS,
      idleTimeoutMs,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
      trustProxy,
    },
    detector: {
      kind: e.DETECTOR,
      modelPath: path.resolve(e.DETECTOR_MODEL),
      workers: e.DETECTOR_WORKERS === 0 ? availableParallelism() : e.DETECTOR_WORKERS,
      inputSize: e.DETECTOR_INPUT_SIZE,
      minScore: e.DETECTOR_MIN_SCORE ?? DETECTOR_DEFAULTS[e.DETECTOR].minScore,
      maxSide: e.DETECTOR_MAX_SIDE ?? DETECTOR_DEFAULTS[e.DETECTOR].maxSide,
    },
    security: {
      apiKeys: e.API_KEYS,
      corsOrigins: e.CORS_ORIGINS,
      rateLimitMax: e.RATE_LIMIT_MAX,
      rateLimitWindowMs: e.RATE_LIMIT_WINDOW_MS,
    },
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
  };
}
