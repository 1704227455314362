/**
 * Starts the real app (buildApp with the production runtime factory: runtimes in worker threads) on a loopback port over a
 * temporary registry of real small models, and talks to it over real HTTP with fetch. Every
 * response goes through the openapi.yaml check before the test sees it.
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createThreadedRuntime } from '../../src/runtime-host/threaded-runtime';
import type { RuntimeFactory } from '../../src/runtime/types';
import { checkResponse, type CheckedResponse } from './openapi';
import { freshRegistry, removeDir } from './test-models';

/** Longest wait for the models and the face detector to be ready after start. */
export const READY_TIMEOUT_MS = 60_000;
const POLL_MS = 50;

export interface Sent extends CheckedResponse {
  /** The body as JSON when it is JSON (else the text). */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: RequestInit['body'];
  signal?: AbortSignal;
}

export interface TestService {
  app: FastifyInstance;
  url: string;
  registry: string;
  /** A real HTTP request; the response is checked against openapi.yaml. */
  request(method: string, path: string, options?: RequestOptions): Promise<Sent>;
  /** POST /predict with a raw image body. */
  predict(image: Uint8Array, query?: string, contentType?: string): Promise<Sent>;
  /** POST /predict as multipart/form-data with one file per entry. */
  predictMultipart(
    files: { field: string; bytes: Uint8Array; filename: string; type: string }[],
    query?: string,
  ): Promise<Sent>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Extra environment variables (over the test defaults below). */
  env?: Record<string, string>;
  /** Serve this registry instead of a fresh copy of the template (the caller owns it). */
  registry?: string;
  runtimeFactory?: RuntimeFactory;
  /** Wait for /readyz (default), only for the models, or not at all. */
  waitFor?: 'ready' | 'models' | 'nothing';
  /** Fastify logger options (default: no logging), e.g. a stream that captures the log lines. */
  logger?: FastifyServerOptions['logger'];
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function startService(options: StartOptions = {}): Promise<TestService> {
  const registry = options.registry ?? (await freshRegistry());
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    REGISTRY_DIR: registry,
    DETECTOR_WORKERS: '1',
    RATE_LIMIT_MAX: '0',
    REGISTRY_RESCAN_MS: '1000',
    ...options.env,
  });
  const app = await buildApp({
    config,
    runtimeFactory: options.runtimeFactory ?? createThreadedRuntime,
    logger: options.logger,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const url = `http://127.0.0.1:${address.port}`;

  const request = async (method: string, path: string, init: RequestOptions = {}): Promise<Sent> => {
    const response = await fetch(url + path, {
      method,
      headers: init.headers,
      body: init.body,
      signal: init.signal,
    });
    const text = await response.text();
    const headers = Object.fromEntries(response.headers.entries());
    const isJson = (headers['content-type'] ?? '').includes('application/json');
    const sent: Sent = { status: response.status, headers, body: isJson ? JSON.parse(text) : text, text };
    checkResponse(method, path, sent);
    return sent;
  };

  const service: TestService = {
    app,
    url,
    registry,
    request,
    predict: (image, query = '', contentType = 'image/jpeg') =>
      request('POST', `/predict${query}`, { headers: { 'content-type': contentType }, body: image }),
    predictMultipart: (files, query = '') => {
      const form = new FormData();
      for (const file of files)
        form.append(file.field, new Blob([file.bytes], { type: file.type }), file.filename);
      return request('POST', `/predict${query}`, { body: form });
    },
    close: async () => {
      await app.close();
      if (!options.registry) await removeDir(registry);
    },
  };
  const waitFor = options.waitFor ?? 'ready';
  if (waitFor === 'ready') {
    await waitUntil(async () => (await fetch(`${url}/readyz`)).status === 200, READY_TIMEOUT_MS, '/readyz');
  } else if (waitFor === 'models') {
    await waitUntil(() => app.models.readyCount > 0, READY_TIMEOUT_MS, 'a loaded model');
  }
  return service;
}
