/**
 * Keeps credentials that clients put in URLs out of the logs. The service reads API keys only from
 * the x-api-key header, but a client that sends `?api_key=...` (as other APIs accept) would have
 * it written verbatim in every log line about the request, which Fastify logs with its URL.
 */

/** Query parameters whose value is a credential, whatever the spelling. */
const SECRET_PARAMETER =
  /^(x[-_]?)?(api[-_]?key|apikey|key|token|access[-_]?token|auth|authorization|password|secret)$/i;
export const REDACTED = '[REDACTED]';

/**
 * The URL (path and query, as in a request line) with the values of credential parameters replaced.
 *
 * @example redactUrl('/predict?api_key=s3cret&crop=none') // '/predict?api_key=[REDACTED]&crop=none'
 */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const rawName = equals < 0 ? pair : pair.slice(0, equals);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // A name that is not valid percent-encoding is judged as it is.
      }
      return equals >= 0 && SECRET_PARAMETER.test(name.trim()) ? `${rawName}=${REDACTED}` : pair;
    });
  return `${url.slice(0, at)}?${query.join('&')}`;
}

/** The request as Fastify's logger writes it (its own serializer's fields), with the URL redacted. */
export function serializeRequest(request: {
  method: string;
  url: string;
  headers?: Record<string, string | string[] | undefined>;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url),
    version: request.headers?.['accept-version'],
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
