import {
  ConfigError,
  DEFAULT_REGISTRY_DIR,
  loadConfig,
  parseTrustProxy,
  SHIPPED_DEFAULT_MODEL,
} from '../src/config';

describe('loadConfig', () => {
  test('defaults serve the project registry on port 8080 with ONNX', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.registry.dir).toBe(DEFAULT_REGISTRY_DIR);
    expect(config.registry.defaultModel).toBe(SHIPPED_DEFAULT_MODEL);
    expect(config.runtime.kind).toBe('onnx');
    expect(config.limits.maxBodyBytes).toBe(10 * 1024 * 1024);
    expect(config.security.apiKeys).toEqual([]);
    expect(config.detector.workers).toBeGreaterThanOrEqual(1);
  });

  test('reads and converts every kind of variable', () => {
    const config = loadConfig({
      PORT: '9000',
      API_KEYS: 'a, b,,c',
      CORS_ORIGINS: 'https://x.example',
      REGISTRY_WATCH: 'false',
      BATCH_MAX_SIZE: '32',
      RUNTIME_THREADS: '0',
      DEFAULT_MODEL: 'resnet152',
      TFJS_BACKEND: 'cpu',
    });
    expect(config.port).toBe(9000);
    expect(config.security.apiKeys).toEqual(['a', 'b', 'c']);
    expect(config.security.corsOrigins).toEqual(['https://x.example']);
    expect(config.registry.watch).toBe(false);
    expect(config.batching.maxBatchSize).toBe(32);
    expect(config.runtime.threads).toBeUndefined();
    expect(config.registry.defaultModel).toBe('resnet152');
    expect(config.runtime.tfjsBackend).toBe('cpu');
  });

  test('an empty variable counts as unset', () => {
    expect(loadConfig({ PORT: '' }).port).toBe(8080);
  });

  test('fails fast naming every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', RUNTIME: 'torch', BATCH_MAX_SIZE: '0' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^PORT: /m);
    expect(problems).toMatch(/^RUNTIME: /m);
    expect(problems).toMatch(/^BATCH_MAX_SIZE: /m);
  });

  test('the tiny detector needs an input size that is a multiple of 32', () => {
    expect(() => loadConfig({ DETECTOR: 'tiny', DETECTOR_INPUT_SIZE: '400' })).toThrow(/DETECTOR_INPUT_SIZE/);
    expect(loadConfig({ DETECTOR: 'ssd', DETECTOR_INPUT_SIZE: '400' }).detector.inputSize).toBe(400);
  });

  test('BlazeFace in ONNX Runtime is the default detector; thresholds and copy sizes default per detector', () => {
    expect(loadConfig({}).detector).toMatchObject({ kind: 'blazeface', minScore: 0.6, maxSide: 256 });
    expect(loadConfig({ DETECTOR: 'tiny' }).detector).toMatchObject({
      kind: 'tiny',
      minScore: 0.3,
      maxSide: 640,
    });
    expect(loadConfig({ DETECTOR_MIN_SCORE: '0.8', DETECTOR_MAX_SIDE: '512' }).detector).toMatchObject({
      minScore: 0.8,
      maxSide: 512,
    });
  });

  test('rate limiting is off unless configured, and no proxy is trusted', () => {
    const config = loadConfig({});
    expect(config.security.rateLimitMax).toBe(0);
    expect(config.http.trustProxy).toBe(false);
    expect(config.registry.fallbackModel).toBeNull();
    expect(loadConfig({ FALLBACK_MODEL: 'resnet-small' }).registry.fallbackModel).toBe('resnet-small');
  });

  test('TRUST_PROXY takes a boolean, a hop count or proxy addresses, and nothing else', () => {
    expect(parseTrustProxy('true')).toBe(true);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('10.0.0.0/8, 127.0.0.1,::1')).toEqual(['10.0.0.0/8', '127.0.0.1', '::1']);
    expect(parseTrustProxy('proxy.example')).toBeNull();
    expect(() => loadConfig({ TRUST_PROXY: 'sometimes' })).toThrow(/^.*TRUST_PROXY: /m);
  });

  test('connection timeouts have bounded defaults and must fit together', () => {
    const { http } = loadConfig({});
    expect(http).toEqual({
      headersTimeoutMs: 10_000,
      uploadTimeoutMs: 60_000,
      idleTimeoutMs: 70_000,
      keepAliveTimeoutMs: 72_000,
      trustProxy: false,
    });
    // The idle timeout follows the request deadline and the upload timeout unless set.
    expect(loadConfig({ REQUEST_TIMEOUT_MS: '120000' }).http.idleTimeoutMs).toBe(130_000);
    expect(loadConfig({ UPLOAD_TIMEOUT_MS: '20000' }).http.idleTimeoutMs).toBe(30_000);
    expect(() => loadConfig({ REQUEST_TIMEOUT_MS: '20000', IDLE_TIMEOUT_MS: '15000' })).toThrow(
      /IDLE_TIMEOUT_MS: /,
    );
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', UPLOAD_TIMEOUT_MS: '1000' })).toThrow(
      /HEADERS_TIMEOUT_MS: /,
    );
  });

  test('large decodes are bounded by their own limits', () => {
    expect(loadConfig({}).decode).toEqual({ largePixels: 4_000_000, largeConcurrency: 1, maxQueue: 16 });
    expect(() => loadConfig({ DECODE_LARGE_CONCURRENCY: '0' })).toThrow(/DECODE_LARGE_CONCURRENCY: /);
  });
});
