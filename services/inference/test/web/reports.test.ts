/**
 * GET /models/{name}/versions/{version}/report/{file} over real HTTP: the published report files
 * with their types, inert-content headers and checksum ETags; and nothing else: names off the
 * allow-list, parent folders however spelled, files not recorded at publishing, files replaced by
 * a link or changed since, a report folder linked to elsewhere, unknown models and versions. With API keys configured the files need
 * one, the demo page does not.
 */
import { request as httpRequest } from 'node:http';
import { appendFile, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { READY_TIMEOUT_MS, startService, type TestService } from '../helpers/service';
import { freshRegistry, removeDir, TEST_MODEL } from '../helpers/test-models';
import { publishWithReport, reportFiles } from './report-fixture';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;

/** A GET whose path goes to the server exactly as written (fetch would resolve "..", this does not). */
function rawGet(url: string, rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = httpRequest({ hostname, port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const TYPES: Record<string, string> = {
  'curves.svg': 'image/svg+xml',
  'curves.png': 'image/png',
  'report.md': 'text/markdown; charset=utf-8',
  'metrics.json': 'application/json; charset=utf-8',
  'epochs.jsonl': 'application/x-ndjson; charset=utf-8',
};

describe('report files', () => {
  let registry: string;
  let service: TestService;
  let version: number;
  /** A second published copy whose files the tests tamper with. */
  let tampered: number;
  /** A third copy whose report/ folder a test replaces by a symbolic link. */
  let relinked: number;
  let files: Record<string, Buffer>;
  const reportPath = (file: string, v = version) => `/models/${TEST_MODEL}/versions/${v}/report/${file}`;

  beforeAll(async () => {
    registry = await freshRegistry();
    version = await publishWithReport(registry);
    tampered = await publishWithReport(registry);
    relinked = await publishWithReport(registry);
    files = await reportFiles();
    // No watching and no rescans: the tampering below must meet the route's own checks, not a reload.
    service = await startService({
      registry,
      waitFor: 'models',
      env: { REGISTRY_WATCH: 'false', REGISTRY_RESCAN_MS: '600000' },
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await service?.close();
    await removeDir(registry);
  });

  test.each(Object.keys(TYPES))(
    '%s is served with its type, inert headers and its checksum as ETag',
    async (file) => {
      const response = await fetch(service.url + reportPath(file));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(TYPES[file]);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(files[file]);
      expect(response.headers.get('content-security-policy')).toBe(
        "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      );
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const sha256 = createHash('sha256').update(files[file]).digest('hex');
      expect(response.headers.get('etag')).toBe(`"sha256-${sha256}"`);
      // And the same answer passes the OpenAPI check.
      const checked = await service.request('GET', reportPath(file));
      expect(checked.status).toBe(200);
    },
  );

  test('a matching If-None-Match gets 304 without a body', async () => {
    const first = await service.request('GET', reportPath('curves.svg'));
    const again = await service.request('GET', reportPath('curves.svg'), {
      headers: { 'if-none-match': first.headers.etag as string },
    });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    const other = await service.request('GET', reportPath('curves.svg'), {
      headers: { 'if-none-match': '"sha256-0"' },
    });
    expect(other.status).toBe(200);
  });

  test.each([
    ['the metadata through an encoded parent folder', '..%2Fmetadata.json'],
    ['the model through an encoded parent folder', '%2E%2E%2Fmodel.onnx'],
    ['an encoded backslash', '..%5Cmetadata.json'],
    ['the model file', 'model.onnx'],
    ['an encoded sub-folder', 'tfjs%2Fmodel.json'],
    ['a hidden file', '.curves.svg'],
    ['an HTML page', 'report.html'],
    ['upper case', 'CURVES.SVG'],
    ['an encoded NUL byte', 'curves.svg%00.png'],
  ])('%s is refused with 400 (%s)', async (_what, file) => {
    const response = await service.request('GET', reportPath(file));
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('INVALID_REQUEST');
  });

  test.each([
    `/models/${TEST_MODEL}/versions/1/report/../metadata.json`,
    `/models/${TEST_MODEL}/versions/1/report/../../1/metadata.json`,
    `/models/${TEST_MODEL}/versions/1/report/./../model.onnx`,
    `/models/../../../etc/versions/1/report/passwd.md`,
  ])('a raw parent-folder path reaches nothing: %s', async (rawPath) => {
    const response = await rawGet(service.url, rawPath);
    expect([400, 404]).toContain(response.status);
    expect(JSON.parse(response.body).error.code).toMatch(/^(NOT_FOUND|MODEL_NOT_FOUND|INVALID_REQUEST)$/);
    expect(response.body).not.toContain('schema_version');
  });

  test('a file put into report/ after publishing is not served (it is not among the artifacts)', async () => {
    await writeFile(
      path.join(registry, TEST_MODEL, String(version), 'report', 'extra.svg'),
      files['curves.svg'],
    );
    const response = await service.request('GET', reportPath('extra.svg'));
    expect(response.status).toBe(404);
    expect(response.body.error).toEqual({
      code: 'NOT_FOUND',
      message: `Version ${version} of "${TEST_MODEL}" has no report file "extra.svg"`,
    });
  });

  test('a recorded file replaced by a symbolic link, or changed since publishing, is not served', async () => {
    const dir = path.join(registry, TEST_MODEL, String(tampered), 'report');
    // A link to a file of the same size elsewhere: only lstat tells them apart.
    const outside = path.join(registry, 'outside.md');
    await writeFile(outside, await readFile(path.join(dir, 'report.md')));
    await unlink(path.join(dir, 'report.md'));
    await symlink(outside, path.join(dir, 'report.md'));
    expect((await service.request('GET', reportPath('report.md', tampered))).status).toBe(404);

    await appendFile(path.join(dir, 'curves.svg'), '<!-- changed -->');
    expect((await service.request('GET', reportPath('curves.svg', tampered))).status).toBe(404);
    // The untouched files of that version are still served.
    expect((await service.request('GET', reportPath('metrics.json', tampered))).status).toBe(200);
  });

  test('a report folder replaced by a symbolic link to a folder elsewhere is not followed', async () => {
    // The same files (same sizes and names) outside the registry, reached through report/ -> there.
    const report = path.join(registry, TEST_MODEL, String(relinked), 'report');
    const elsewhere = `${registry}-elsewhere`;
    await rename(report, elsewhere);
    try {
      await symlink(elsewhere, report);
      for (const file of Object.keys(files)) {
        const response = await service.request('GET', reportPath(file, relinked));
        expect([file, response.status, response.body.error?.code]).toEqual([file, 404, 'NOT_FOUND']);
      }
      // A link inside the version folder stays served: only the real path's place matters.
      await unlink(report);
      await rename(elsewhere, path.join(registry, TEST_MODEL, String(relinked), 'report-files'));
      await symlink('report-files', report);
      expect((await service.request('GET', reportPath('report.md', relinked))).status).toBe(200);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  test('a version without a report, an unknown version or model, and a malformed version', async () => {
    const none = await service.request('GET', `/models/${TEST_MODEL}/versions/1/report/curves.svg`);
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('NOT_FOUND');
    const noVersion = await service.request('GET', `/models/${TEST_MODEL}/versions/99/report/curves.svg`);
    expect([noVersion.status, noVersion.body.error.code]).toEqual([404, 'MODEL_NOT_FOUND']);
    const noModel = await service.request('GET', '/models/nope/versions/1/report/curves.svg');
    expect([noModel.status, noModel.body.error.code]).toEqual([404, 'MODEL_NOT_FOUND']);
    const badName = await service.request('GET', '/models/..%2F..%2Fetc/versions/1/report/curves.svg');
    expect([badName.status, badName.body.error.code]).toEqual([404, 'MODEL_NOT_FOUND']);
    const badVersion = await service.request('GET', `/models/${TEST_MODEL}/versions/1e3/report/curves.svg`);
    expect([badVersion.status, badVersion.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
  });
});

describe('with API keys configured', () => {
  const KEY = 'demo-test-key-0123456789';
  let registry: string;
  let service: TestService;
  let version: number;

  beforeAll(async () => {
    registry = await freshRegistry();
    version = await publishWithReport(registry);
    service = await startService({ registry, waitFor: 'models', env: { API_KEYS: KEY } });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await service?.close();
    await removeDir(registry);
  });

  test('report files need a key; the page and its assets do not', async () => {
    const file = `/models/${TEST_MODEL}/versions/${version}/report/report.md`;
    expect((await service.request('GET', file)).status).toBe(401);
    expect((await service.request('GET', file, { headers: { 'x-api-key': KEY } })).status).toBe(200);
    expect((await service.request('GET', '/')).status).toBe(200);
    expect((await service.request('GET', '/assets/main.js')).status).toBe(200);
    expect((await service.request('GET', '/models')).status).toBe(401);
  });

  test('a missing asset, or any URL no route answers, is a 404 with or without a key', async () => {
    for (const url of ['/assets/missing.js', '/no/such/route']) {
      const response = await service.request('GET', url);
      expect([url, response.status, response.body.error.code]).toEqual([url, 404, 'NOT_FOUND']);
    }
  });
});
