/**
 * The images' HEALTHCHECK: `node docker/healthcheck.cjs` asks the service's GET /readyz and exits
 * 0 when it answers 200 (a model loaded, the face detector up, not draining), 1 otherwise. Slim
 * images have no curl or wget, and node is already there. Plain CommonJS with no dependencies, so
 * it starts in a few tens of milliseconds (no tsx) every time Docker probes.
 *
 * It reads the container's own PORT and HOST (the service's variables, same defaults), so a
 * `PORT=9000` container is probed on 9000. Its one line of output lands in `docker inspect`.
 */
'use strict';

const http = require('node:http');

/** Docker's own --timeout is 5 s in the Dockerfiles; answering before it keeps our message. */
const DEFAULT_TIMEOUT_MS = 4000;
const DEFAULT_PORT = 8080;
/** Listening on every interface means loopback reaches it. */
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * Where to probe, from the service's environment variables.
 *
 * @example probeTarget({ PORT: '9000' }) // { host: '127.0.0.1', port: 9000, timeoutMs: 4000 }
 * @param {Record<string, string | undefined>} env
 * @returns {{ host: string, port: number, timeoutMs: number }}
 */
function probeTarget(env) {
  const port = env.PORT === undefined || env.PORT === '' ? DEFAULT_PORT : Number(env.PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid PORT "${env.PORT}"`);
  const host = WILDCARD_HOSTS.has(env.HOST ?? '') ? '127.0.0.1' : String(env.HOST);
  const timeoutMs = Number(env.HEALTHCHECK_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS);
  return {
    host,
    port,
    timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : DEFAULT_TIMEOUT_MS,
  };
}

/**
 * Asks GET /readyz once; resolves with a one-line verdict, never rejects.
 *
 * @example const { healthy, message } = await probe({ host: '127.0.0.1', port: 8080, timeoutMs: 4000 });
 * @param {{ host: string, port: number, timeoutMs: number }} target
 * @returns {Promise<{ healthy: boolean, message: string }>}
 */
function probe(target) {
  return new Promise((resolve) => {
    const request = http.get(
      { host: target.host, port: target.port, path: '/readyz', timeout: target.timeoutMs },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          if (body.length < 500) body += chunk;
        });
        response.on('end', () => {
          const healthy = response.statusCode === 200;
          resolve({ healthy, message: `readyz ${response.statusCode}: ${body.replace(/\s+/g, ' ').trim()}` });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${target.timeoutMs} ms`)));
    request.on('error', (error) =>
      resolve({ healthy: false, message: `readyz unreachable: ${error.message}` }),
    );
  });
}

if (require.main === module) {
  let target;
  try {
    target = probeTarget(process.env);
  } catch (error) {
    console.log(`healthcheck: ${error.message}`);
    process.exit(1);
  }
  probe(target).then(({ healthy, message }) => {
    console.log(message);
    process.exitCode = healthy ? 0 : 1;
  });
}

module.exports = { probe, probeTarget };
