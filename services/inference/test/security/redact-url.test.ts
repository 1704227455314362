import { REDACTED, redactUrl } from '../../src/security/redact-url';

describe('redactUrl', () => {
  test.each([
    ['/predict?api_key=s3cret&crop=none', `/predict?api_key=${REDACTED}&crop=none`],
    ['/models?X-API-KEY=s3cret', `/models?X-API-KEY=${REDACTED}`],
    [
      '/models?access_token=a&token=b&apiKey=c',
      `/models?access_token=${REDACTED}&token=${REDACTED}&apiKey=${REDACTED}`,
    ],
    ['/models?api%5Fkey=s3cret', `/models?api%5Fkey=${REDACTED}`],
  ])('%s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });

  test('other parameters and URLs without a query are kept as they are', () => {
    expect(redactUrl('/predict?crop=none&model=key-model')).toBe('/predict?crop=none&model=key-model');
    expect(redactUrl('/healthz')).toBe('/healthz');
    expect(redactUrl('/predict?%E0%A4%A=1&api_key')).toBe('/predict?%E0%A4%A=1&api_key');
  });
});
