/**
 * Requests refused before any route runs (by Node's HTTP parser or by the router) over a raw
 * socket: each gets the API's error body with a documented status and an x-request-id, and the
 * connection is closed cleanly instead of being reset under a keep-alive client.
 */
import net from 'node:net';
import { checkResponse } from './helpers/openapi';
import { startService, type TestService } from './helpers/service';

/** Node's default limit on the request line plus headers is 16 KiB: go well past it. */
const OVERSIZED_URL_CHARS = 100_000;
/** The router refuses path parameters longer than 100 characters. */
const OVERSIZED_PARAM_CHARS = 5_000;
/** How long a raw exchange may take before the test gives up on the server closing the socket. */
const EXCHANGE_TIMEOUT_MS = 10_000;

let service: TestService;

beforeAll(async () => {
  // These requests never reach a model: no need to wait for one.
  service = await startService({ waitFor: 'nothing' });
});

afterAll(async () => {
  await service?.close();
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** True when the server closed the connection (FIN) rather than resetting it. */
  closedCleanly: boolean;
}

/** Sends `request` as bytes and reads the one answer until the server closes the connection. */
function exchange(request: string): Promise<RawAnswer> {
  const { port } = new URL(service.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    let reset = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${EXCHANGE_TIMEOUT_MS} ms`));
    }, EXCHANGE_TIMEOUT_MS);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') reset = true;
      else reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
        }),
      );
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
      let body: unknown = rest.join('\r\n\r\n');
      try {
        body = JSON.parse(body as string);
      } catch {
        // Left as text: the expectations below fail with it in view.
      }
      resolve({ status, headers, body, closedCleanly: !reset });
    });
    socket.write(request);
  });
}

function expectApiError(answer: RawAnswer, method: string, url: string): void {
  expect(answer.status).toBe(400);
  expect(answer.body).toEqual({ error: { code: 'INVALID_REQUEST', message: expect.any(String) } });
  checkResponse(method, url, answer);
  expect(answer.headers['x-request-id']).toBeTruthy();
}

test('a request line over the header limit gets 400 INVALID_REQUEST and a clean close', async () => {
  const url = `/predict?${'a'.repeat(OVERSIZED_URL_CHARS)}`;
  const answer = await exchange(`POST ${url} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
  expectApiError(answer, 'POST', '/predict');
  expect(answer.headers.connection).toBe('close');
  expect(answer.closedCleanly).toBe(true);
});

test('a malformed request line gets 400 INVALID_REQUEST', async () => {
  const answer = await exchange('GARBAGE / HTTP/9.9\r\n\r\n');
  expect(answer.status).toBe(400);
  expect(answer.body).toEqual({ error: { code: 'INVALID_REQUEST', message: expect.any(String) } });
  expect(answer.headers.connection).toBe('close');
});

test('a path parameter longer than the router accepts gets 400 INVALID_REQUEST', async () => {
  const url = `/models/${'a'.repeat(OVERSIZED_PARAM_CHARS)}/versions/1`;
  const answer = await exchange(`GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  expectApiError(answer, 'GET', url);
  expect(JSON.stringify(answer.body)).not.toContain('aaaa');
});

test('a badly percent-encoded path gets 400 INVALID_REQUEST', async () => {
  const url = '/models/%E0%A4%A/versions/1';
  const answer = await exchange(`GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  expectApiError(answer, 'GET', url);
});

test('an HTTP/1.1 request without a Host header gets 400 INVALID_REQUEST with the error body', async () => {
  for (const host of ['', 'Host: \r\n']) {
    const url = '/models/tiny/versions/1';
    const answer = await exchange(`GET ${url} HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
    expectApiError(answer, 'GET', url);
    expect((answer.body as { error: { message: string } }).error.message).toMatch(/Host header/);
  }
  // HTTP/1.0 has no Host requirement.
  const old = await exchange('GET /healthz HTTP/1.0\r\n\r\n');
  expect(old.status).toBe(200);
});

test('a keep-alive client gets an answer to the request after a refused one', async () => {
  // fetch keeps connections alive: a server that reset the refused request's socket would fail
  // the next request on it with ECONNRESET instead of answering.
  const refused = await service.request('POST', `/predict?${'a'.repeat(OVERSIZED_URL_CHARS)}`);
  expect(refused.status).toBe(400);
  const next = await service.request('GET', '/healthz');
  expect(next.status).toBe(200);
});
