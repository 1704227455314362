/**
 * server.ts as a real process (`node --import tsx src/server.ts`, as `npm start` runs it): a bad configuration
 * stops it at once naming the variable; a port in use stops `npm start` with one line naming the
 * port and PORT; SIGTERM drains (accepted requests finish, without waiting for fuller batches) and
 * the process exits 0.
 */
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { listenFailureMessage } from '../src/listen-failure';
import { spawnServer, type ServerProcess } from '../tools/server-process';
import { faceCrop } from './helpers/images';
import { checkResponse } from './helpers/openapi';
import { READY_TIMEOUT_MS, waitUntil } from './helpers/service';
import { freshRegistry, removeDir, REPO_ROOT } from './helpers/test-models';

const START_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
/** Batches wait this long for company, unless the service drains. */
const BATCH_DELAY_MS = 3_000;
const SIGTERM_AFTER_MS = 300;
const IN_FLIGHT = 3;

/** The service process with only `env` (and PATH, HOME) as its environment. */
function startServer(env: Record<string, string>): ServerProcess {
  return spawnServer({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env });
}

test(
  'an invalid configuration stops the process naming the variable',
  async () => {
    const server = startServer({ PORT: 'eighty', BATCH_MAX_SIZE: '0' });
    expect(await server.exited).toBe(2);
    expect(server.output()).toMatch(/PORT: /);
    expect(server.output()).toMatch(/BATCH_MAX_SIZE: /);
  },
  START_TIMEOUT_MS,
);

test(
  'npm start on a port in use prints one line naming the port and PORT, no stack, and exits 1',
  async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const failed = await promisify(execFile)('npm', ['start'], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          DETECTOR_WORKERS: '1',
          LOG_LEVEL: 'warn',
        },
        timeout: START_TIMEOUT_MS,
      }).then(
        () => null,
        (error: { code?: number; stdout: string; stderr: string }) => error,
      );
      if (failed === null) throw new Error('npm start succeeded on a port in use');
      expect(failed.code).toBe(1);
      // npm's own warnings about .npmrc aside, stderr is the one line; stdout has no stack either.
      const lines = failed.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm warn'));
      expect(lines).toEqual([listenFailureMessage({ code: 'EADDRINUSE' }, { port, host: '127.0.0.1' })]);
      expect(lines[0]).toMatch(new RegExp(`^Port ${port} is already in use.*PORT=${port + 1} npm start$`));
      expect(failed.stdout).not.toMatch(/EADDRINUSE|\n\s+at /);
    } finally {
      blocker.close();
    }
  },
  START_TIMEOUT_MS,
);

test('the other listen failures a person can fix name their variable; anything else is not hidden', () => {
  const where = { port: 80, host: '10.9.8.7' };
  expect(listenFailureMessage({ code: 'EACCES' }, where)).toMatch(/port 80 .*PORT=8080/);
  expect(listenFailureMessage({ code: 'EADDRNOTAVAIL' }, where)).toMatch(/no address 10\.9\.8\.7 .*HOST=/);
  expect(listenFailureMessage(new Error('boom'), where)).toBeNull();
  expect(listenFailureMessage(null, where)).toBeNull();
});

test(
  'SIGTERM finishes the requests in flight and exits 0',
  async () => {
    const registry = await freshRegistry();
    const server = startServer({
      PORT: '0',
      HOST: '127.0.0.1',
      REGISTRY_DIR: registry,
      DETECTOR_WORKERS: '1',
      BATCH_MAX_SIZE: '64',
      BATCH_MAX_DELAY_MS: String(BATCH_DELAY_MS),
      LOG_LEVEL: 'info',
    });
    try {
      await waitUntil(() => server.url() !== '', READY_TIMEOUT_MS, 'the server to listen');
      const url = server.url();
      await waitUntil(
        async () =>
          (await fetch(`${url}/readyz`)
            .then((r) => r.status)
            .catch(() => 0)) === 200,
        READY_TIMEOUT_MS,
        'readiness',
      );
      const face = await faceCrop('jpeg');
      const started = Date.now();
      const requests = Array.from({ length: IN_FLIGHT }, async () => {
        const response = await fetch(`${url}/predict?crop=none`, {
          method: 'POST',
          headers: { 'content-type': 'image/jpeg' },
          body: face,
        });
        const body = await response.json();
        checkResponse('POST', '/predict?crop=none', {
          status: response.status,
          headers: Object.fromEntries(response.headers.entries()),
          body,
        });
        return response.status;
      });
      await new Promise((resolve) => setTimeout(resolve, SIGTERM_AFTER_MS));
      server.child.kill('SIGTERM');
      expect(await Promise.all(requests)).toEqual(Array(IN_FLIGHT).fill(200));
      // Draining dispatched the queued batch at once instead of after the batching delay.
      expect(Date.now() - started).toBeLessThan(BATCH_DELAY_MS);
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain('draining before exit');
    } finally {
      server.child.kill('SIGKILL');
      await removeDir(registry);
    }
  },
  START_TIMEOUT_MS,
);
