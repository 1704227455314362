/**
 * Requests of the Docker test, each on a connection of its own (no keep-alive), so every outcome is
 * unambiguous: answered (with its status and the replica that served it), refused (the connection
 * was never accepted: nothing was sent), or lost (accepted, then closed or timed out without an
 * answer). A steady load runs a few such requests at a time until stopped, and is summed up.
 */
import http from 'node:http';

/** One request's fate. */
export interface Outcome {
  kind: 'answered' | 'refused' | 'lost';
  /** The x-request-id sent ('' when none): the service logs its requests under it. */
  requestId: string;
  status: number;
  /** The X-Served-By header the balancer sets ('' without one). */
  servedBy: string;
  /** The parsed JSON body of an answer (null when it is not JSON). */
  body: unknown;
  headers: http.IncomingHttpHeaders;
  /** The socket error of a refused or lost request. */
  error: string;
  startedAt: number;
  endedAt: number;
}

/** How long one request may take before it counts as lost. */
export const REQUEST_DEADLINE_MS = 30_000;

/**
 * Sends `image` as a multipart upload to `url` (POST /predict?...) on a new connection.
 *
 * @example const outcome = await postImage('http://127.0.0.1:8080/predict?crop=none', jpeg);
 */
export function postImage(
  url: string,
  image: Buffer,
  requestId = '',
  deadlineMs = REQUEST_DEADLINE_MS,
): Promise<Outcome> {
  const boundary = `----fer-docker-test-${Math.random().toString(16).slice(2)}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="face.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
    ),
    image,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}` };
  if (requestId) headers['x-request-id'] = requestId;
  return send(url, 'POST', body, headers, deadlineMs);
}

/** GET `url` on a new connection. */
export function getJson(url: string, deadlineMs = REQUEST_DEADLINE_MS): Promise<Outcome> {
  return send(url, 'GET', null, {}, deadlineMs);
}

function send(
  url: string,
  method: string,
  body: Buffer | null,
  headers: Record<string, string>,
  deadlineMs: number,
): Promise<Outcome> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const finish = (outcome: Omit<Outcome, 'startedAt' | 'endedAt' | 'requestId'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...outcome, requestId: headers['x-request-id'] ?? '', startedAt, endedAt: Date.now() });
    };
    const request = http.request(
      url,
      {
        method,
        agent: false,
        headers: {
          ...headers,
          connection: 'close',
          ...(body ? { 'content-length': String(body.length) } : {}),
        },
        timeout: deadlineMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = null;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = null;
          }
          finish({
            kind: 'answered',
            status: response.statusCode ?? 0,
            headers: response.headers,
            servedBy: String(response.headers['x-served-by'] ?? ''),
            body: parsed,
            error: '',
          });
        });
        response.on('error', (error) =>
          finish({ kind: 'lost', status: 0, servedBy: '', headers: {}, body: null, error: error.message }),
        );
      },
    );
    request.on('socket', (socket) => socket.on('connect', () => (connected = true)));
    request.on('timeout', () => request.destroy(new Error(`no answer within ${deadlineMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => {
      const refused = !connected && error.code === 'ECONNREFUSED';
      finish({
        kind: refused ? 'refused' : 'lost',
        status: 0,
        servedBy: '',
        headers: {},
        body: null,
        error: error.code ?? error.message,
      });
    });
    request.end(body ?? undefined);
  });
}

export interface LoadSummary {
  sent: number;
  ok: number;
  /** Answered with a status other than 200, by status. */
  failedByStatus: Record<string, number>;
  refused: number;
  lost: number;
  /** 200 answers by the replica that served them. */
  byReplica: Record<string, number>;
}

/**
 * Counts a list of outcomes.
 *
 * @example summarize([{ kind: 'answered', status: 200, servedBy: 'replica-1', ... }]).ok // 1
 */
export function summarize(outcomes: readonly Outcome[]): LoadSummary {
  const summary: LoadSummary = {
    sent: outcomes.length,
    ok: 0,
    failedByStatus: {},
    refused: 0,
    lost: 0,
    byReplica: {},
  };
  for (const outcome of outcomes) {
    if (outcome.kind === 'refused') summary.refused++;
    else if (outcome.kind === 'lost') summary.lost++;
    else if (outcome.status === 200) {
      summary.ok++;
      if (outcome.servedBy)
        summary.byReplica[outcome.servedBy] = (summary.byReplica[outcome.servedBy] ?? 0) + 1;
    } else {
      summary.failedByStatus[outcome.status] = (summary.failedByStatus[outcome.status] ?? 0) + 1;
    }
  }
  return summary;
}

/** One line for the log, e.g. `412 sent: 412 ok (replica-1 210, replica-2 202), 0 refused, 0 lost`. */
export function formatSummary(summary: LoadSummary): string {
  const replicas = Object.entries(summary.byReplica)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  const failed = Object.entries(summary.failedByStatus)
    .map(([status, n]) => `${n}× ${status}`)
    .join(', ');
  return (
    `${summary.sent} sent: ${summary.ok} ok${replicas ? ` (${replicas})` : ''}` +
    `${failed ? `, failed ${failed}` : ''}, ${summary.refused} refused, ${summary.lost} lost`
  );
}

export interface SteadyLoad {
  /** Outcomes so far (completed requests only). */
  outcomes: Outcome[];
  /** Lets the running requests finish, starts no new one; resolves with every outcome. */
  stop(): Promise<Outcome[]>;
}

/**
 * Keeps `concurrency` requests in flight until stopped. A loop whose request was refused stops
 * (the target closed its door), unless `continueAfterRefusal` (a balancer must never refuse).
 *
 * @example const load = steadyLoad(() => postImage(url, face), 4); ...; const outcomes = await load.stop();
 */
export function steadyLoad(
  request: () => Promise<Outcome>,
  concurrency: number,
  continueAfterRefusal = true,
): SteadyLoad {
  const outcomes: Outcome[] = [];
  let stopping = false;
  const loops = Array.from({ length: concurrency }, async () => {
    while (!stopping) {
      const outcome = await request();
      outcomes.push(outcome);
      if (outcome.kind === 'refused' && !continueAfterRefusal) return;
    }
  });
  return {
    outcomes,
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
      return outcomes;
    },
  };
}
