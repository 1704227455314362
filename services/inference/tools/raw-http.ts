/**
 * HTTP/1.1 over a raw socket, for what fetch cannot do: send a body far larger than anything the
 * server should read (and see how much was sent before the answer came), send headers or a body
 * slowly, or hold a connection open without finishing its request.
 */
import net from 'node:net';

export interface RawAnswer {
  /** 0 when the server closed the connection without answering. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Body bytes written before the answer's status line arrived. */
  sentBeforeAnswer: number;
  /** When the answer (or the close) came, in ms after the connection opened. */
  answeredAfterMs: number;
  /** The socket error the client met, if any (EPIPE, ECONNRESET: the server closed on it). */
  socketError?: string;
}

export interface Upload {
  /** The request line and headers, without the blank line that ends them. */
  head: string;
  /** Body bytes to offer (the sender stops as soon as an answer arrives). */
  total: number;
  /** Sends the body in HTTP chunked framing (the head must say Transfer-Encoding: chunked). */
  chunked?: boolean;
  /** The body, as a function of the offset, a chunk at a time. */
  chunk: (offset: number) => Buffer;
}

/** Parses the first answer on a connection (status line, headers, what arrived of the body). */
export function parseAnswer(text: string): Pick<RawAnswer, 'status' | 'headers' | 'body'> {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    body: rest.join('\r\n\r\n'),
  };
}

/** Time the server gets to send the body of an answer after its headers. */
const BODY_GRACE_MS = 100;

/**
 * Sends `upload` and stops sending as soon as the server answers; resolves with the answer.
 *
 * @example const answer = await rawUpload(service.url, { head: 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 9', total: 9, chunk: () => Buffer.from('x') });
 */
export function rawUpload(url: string, upload: Upload, timeoutMs: number): Promise<RawAnswer> {
  const { port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let text = '';
    let sent = 0;
    let answered = false;
    let sentBeforeAnswer = 0;
    let socketError: string | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({
        ...parseAnswer(text),
        sentBeforeAnswer,
        answeredAfterMs: performance.now() - started,
        socketError,
      });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms (${sent} bytes sent)`));
    }, timeoutMs);
    // The server may close while we still write: its answer has arrived by then, or it never will.
    socket.on('error', (error: NodeJS.ErrnoException) => (socketError ??= error.code ?? String(error)));
    socket.on('close', () => {
      if (!answered) {
        answered = true;
        sentBeforeAnswer = sent;
      }
      finish();
    });
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if (!answered && text.includes('\r\n\r\n')) {
        answered = true;
        sentBeforeAnswer = sent;
        setTimeout(finish, BODY_GRACE_MS);
      }
    });
    socket.on('connect', () => {
      socket.write(`${upload.head}\r\n\r\n`);
      const pump = () => {
        while (!answered && sent < upload.total && !socket.destroyed) {
          const data = upload.chunk(sent).subarray(0, upload.total - sent);
          sent += data.length;
          const framed = upload.chunked
            ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')])
            : data;
          if (!socket.write(framed)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

/**
 * Opens a connection, writes `bytes` one at a time every `intervalMs` (a slowloris client) until
 * the server answers or closes; resolves with what it answered.
 */
export function trickle(
  url: string,
  bytes: string,
  intervalMs: number,
  timeoutMs: number,
): Promise<RawAnswer> {
  const { port } = new URL(url);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let text = '';
    let at = 0;
    let ticker: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      clearInterval(ticker);
      socket.destroy();
      reject(new Error(`the server neither answered nor closed within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => (text += chunk.toString('utf8')));
    socket.on('close', () => {
      clearInterval(ticker);
      clearTimeout(timer);
      resolve({ ...parseAnswer(text), sentBeforeAnswer: at, answeredAfterMs: performance.now() - started });
    });
    socket.on('connect', () => {
      ticker = setInterval(() => {
        if (at < bytes.length && !socket.destroyed) socket.write(bytes[at++]);
      }, intervalMs);
    });
  });
}
