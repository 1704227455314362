/**
 * docker/healthcheck.cjs, the images' HEALTHCHECK, run as Docker runs it (a node process with the
 * container's environment) against the real service: healthy when /readyz answers 200, unhealthy
 * while the service drains, when nothing listens and when /readyz does not answer in time.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startService, type TestService } from '../helpers/service';
import { REPO_ROOT } from '../helpers/test-models';

const SCRIPT = path.join(REPO_ROOT, 'docker', 'healthcheck.cjs');
/** The probe's own deadline in the hanging-server case; well below the test timeout. */
const PROBE_TIMEOUT_MS = 300;
const START_TIMEOUT_MS = 90_000;

interface ProbeResult {
  code: number | null;
  output: string;
}

function runProbe(env: Record<string, string>): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT],
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, output: stdout.trim() });
      },
    );
  });
}

const portOf = (url: string) => new URL(url).port;

describe('against the real service', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startService();
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await service?.close();
  });

  it('exits 0 while /readyz answers 200, then 1 once the service drains', async () => {
    const env = { PORT: portOf(service.url), HOST: '0.0.0.0' };
    const ready = await runProbe(env);
    expect(ready).toEqual({ code: 0, output: expect.stringMatching(/^readyz 200: .*"status":"ready"/) });
    service.app.lifecycle.startDraining();
    const draining = await runProbe(env);
    expect(draining).toEqual({ code: 1, output: expect.stringMatching(/^readyz 503: .*NOT_READY/) });
  });
});

describe('without a ready service', () => {
  let server: Server;

  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('exits 1 when nothing listens on PORT', async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const result = await runProbe({ PORT: String(port) });
    expect(result).toEqual({ code: 1, output: expect.stringMatching(/^readyz unreachable: .*ECONNREFUSED/) });
  });

  it('exits 1 when /readyz does not answer within its timeout', async () => {
    // Accepts the request and never answers it.
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const started = Date.now();
    const result = await runProbe({ PORT: String(port), HEALTHCHECK_TIMEOUT_MS: String(PROBE_TIMEOUT_MS) });
    expect(result).toEqual({
      code: 1,
      output: `readyz unreachable: no answer within ${PROBE_TIMEOUT_MS} ms`,
    });
    expect(Date.now() - started).toBeLessThan(PROBE_TIMEOUT_MS * 10);
    server.closeAllConnections();
  });

  it('exits 1 with a message for a PORT that is not a port', async () => {
    expect(await runProbe({ PORT: 'eighty' })).toEqual({
      code: 1,
      output: 'healthcheck: invalid PORT "eighty"',
    });
  });
});
