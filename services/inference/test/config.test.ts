import { ConfigError, DEFAULT_REGISTRY_DIR, loadConfig, SHIPPED_DEFAULT_MODEL } from '../src/config';

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
});
