/**
 * GET / and /assets/*: the demo page and its files as the service serves them (no browser here;
 * test/browser drives the page): its Content-Security-Policy, every file index.html and the
 * scripts' imports refer to is served with its type, and nothing outside web/assets is reachable.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { WEB_ROOT } from '../../src/routes/web';
import { READY_TIMEOUT_MS, startService, type TestService } from '../helpers/service';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const ASSETS = path.join(WEB_ROOT, 'assets');
const TYPES: Record<string, RegExp> = {
  '.js': /^application\/javascript/,
  '.css': /^text\/css/,
  '.svg': /^image\/svg\+xml/,
};

/** The directives of a Content-Security-Policy header, by name. */
function directives(header: string): Record<string, string[]> {
  return Object.fromEntries(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values]),
  );
}

describe('the demo page', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService({ waitFor: 'nothing' });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close());

  test('GET / is the page, with a CSP that allows its own scripts only, blob: images and camera video', async () => {
    const response = await service.request('GET', '/');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.text).toContain('<script type="module" src="/assets/main.js"></script>');
    const csp = directives(response.headers['content-security-policy'] as string);
    expect(csp['script-src']).toEqual(["'self'"]);
    expect(csp['style-src']).toEqual(["'self'"]);
    expect(csp['img-src']).toEqual(["'self'", 'data:', 'blob:']);
    expect(csp['connect-src']).toEqual(["'self'"]);
    expect(csp['object-src']).toEqual(["'none'"]);
    expect(csp['upgrade-insecure-requests']).toBeUndefined();
  });

  test('every file index.html refers to is served with its type', async () => {
    const html = (await service.request('GET', '/')).text;
    const referenced = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(referenced).toEqual(
      expect.arrayContaining(['/assets/main.js', '/assets/styles.css', '/assets/icon.svg']),
    );
    for (const url of referenced) {
      const response = await service.request('GET', url);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(TYPES[path.extname(url)]);
    }
  });

  test('every module the scripts import exists and is served', async () => {
    const scripts = (await readdir(ASSETS)).filter((f) => f.endsWith('.js'));
    const imported = new Set<string>();
    for (const script of scripts) {
      const source = await readFile(path.join(ASSETS, script), 'utf8');
      for (const match of source.matchAll(/^import\s[^;]*?from\s+'([^']+)';/gms)) {
        expect(match[1]).toMatch(/^\.\/[a-z-]+\.js$/);
        imported.add(match[1].slice(2));
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    for (const file of imported) {
      expect(scripts).toContain(file);
      const response = await service.request('GET', `/assets/${file}`);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(TYPES['.js']);
    }
  });

  test('nothing outside web/assets is reachable', async () => {
    const missing = await service.request('GET', '/assets/nope.js');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'NOT_FOUND']);
    for (const attempt of [
      '/assets/..%2Findex.html',
      '/assets/..%2F..%2Fpackage.json',
      '/assets/%2e%2e%2f%2e%2e%2fsrc%2Fapp.ts',
    ]) {
      const response = await service.request('GET', attempt);
      expect(response.status).toBe(404);
      expect(response.text).not.toContain('"name"');
    }
  });
});
