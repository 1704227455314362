/**
 * The pure parts of the Docker test (npm run test:docker), which jest can check without an engine:
 * how it names base images, counts load outcomes, reports layers and steps, guards the host, and
 * keeps test containers on loopback.
 */
import { parseBaseImage } from './base-images';
import { loopbackOnly, type ComposeConfig } from './compose-project';
import { dockerdArgs, hostDifferences, type HostState } from './docker-daemon';
import { formatSummary, summarize, type Outcome } from './http-load';
import { describeLayer, formatLayers } from './image-report';
import { formatDuration, summaryLines } from './steps';

const outcome = (kind: Outcome['kind'], status = 0, servedBy = ''): Outcome => ({
  kind,
  requestId: '',
  status,
  servedBy,
  headers: {},
  body: null,
  error: '',
  startedAt: 0,
  endedAt: 0,
});

describe('parseBaseImage', () => {
  it('reads the Debian and Node.js images the stand-ins can replace, and nothing else', () => {
    expect(parseBaseImage('debian:bookworm-slim')).toMatchObject({ kind: 'debian', suite: 'bookworm' });
    expect(parseBaseImage('node:24.22.3-bookworm-slim')).toMatchObject({
      kind: 'node',
      suite: 'bookworm',
      nodeVersion: '24.22.3',
    });
    expect(parseBaseImage('node:24-bookworm-slim')).toBeNull();
    expect(parseBaseImage('nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04')).toBeNull();
  });
});

describe('load outcomes', () => {
  it('counts answers by status and replica, refusals and losses apart', () => {
    const summary = summarize([
      outcome('answered', 200, 'replica-1'),
      outcome('answered', 200, 'replica-2'),
      outcome('answered', 200, 'replica-2'),
      outcome('answered', 503),
      outcome('refused'),
      outcome('lost'),
    ]);
    expect(summary).toEqual({
      sent: 6,
      ok: 3,
      failedByStatus: { 503: 1 },
      refused: 1,
      lost: 1,
      byReplica: { 'replica-1': 1, 'replica-2': 2 },
    });
    expect(formatSummary(summary)).toBe(
      '6 sent: 3 ok (replica-1 1, replica-2 2), failed 1× 503, 1 refused, 1 lost',
    );
  });
});

describe('image layers', () => {
  it('names each layer by its instruction and sums the sizes, oldest first', () => {
    expect(describeLayer('/bin/sh -c #(nop) COPY file:abc in /usr/local/bin/node ')).toBe(
      'COPY file:abc in /usr/local/bin/node',
    );
    expect(describeLayer('RUN /bin/sh -c apt-get update # buildkit')).toBe('RUN /bin/sh -c apt-get update');
    expect(describeLayer('')).toBe('(base image)');
    expect(describeLayer('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(
      formatLayers([
        { bytes: 125e6, createdBy: 'COPY /app ./ # buildkit' },
        { bytes: 74e6, createdBy: '' },
      ]),
    ).toEqual(['   74.0 MB  (base image)', '  125.0 MB  COPY /app ./', '  199.0 MB  total']);
  });
});

describe('steps', () => {
  it('formats durations and closes with the passed/failed line', () => {
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(64_000)).toBe('1 min 04 s');
    const lines = summaryLines([
      { name: 'build', status: 'passed', ms: 1000, detail: '' },
      { name: 'run', status: 'failed', ms: 2000, detail: 'boom' },
      { name: 'after', status: 'skipped', ms: 0, detail: '' },
    ]);
    expect(lines.at(-1)).toBe('docker: 1 passed, 1 failed, 1 skipped');
  });
});

describe('the test daemon and the host', () => {
  it('starts without bridge, NAT rules or forwarding, everything under its own folder', () => {
    const args = dockerdArgs('/tmp/x');
    expect(args).toEqual(expect.arrayContaining(['--bridge=none', '--iptables=false', '--ip-forward=false']));
    for (const arg of args.filter((a) => a.includes('/'))) expect(arg).toContain('/tmp/x/');
  });

  it('reports mounts, links and ip_forward that differ after the run', () => {
    const before: HostState = { mounts: ['/'], links: ['eth0', 'lo'], ipForward: '0' };
    expect(hostDifferences(before, before)).toEqual([]);
    expect(
      hostDifferences(before, {
        mounts: ['/', '/tmp/x/netns'],
        links: ['docker0', 'eth0', 'lo'],
        ipForward: '1',
      }),
    ).toEqual([
      'mount /tmp/x/netns left behind',
      'network link docker0 added',
      'ip_forward changed from 0 to 1',
    ]);
  });
});

describe('loopbackOnly', () => {
  const resolved: ComposeConfig = {
    services: {
      inference: {
        build: { context: '.', dockerfile: 'd', network: 'host' },
        network_mode: 'host',
        environment: { HOST: '127.0.0.1', PORT: '1' },
        ports: ['127.0.0.1:8080:8080'],
      },
      other: { image: 'x', environment: { HOST: '0.0.0.0' } },
    },
    networks: { default: {} },
  };

  it('keeps the named services, without published ports or networks', () => {
    const config = loopbackOnly(resolved, ['inference']);
    expect(Object.keys(config.services)).toEqual(['inference']);
    expect(config.services.inference.ports).toBeUndefined();
    expect(config.networks).toBeUndefined();
  });

  it('refuses a service that would leave loopback', () => {
    expect(() => loopbackOnly(resolved, ['other'])).toThrow(
      /other: not on host networking, not bound to 127\.0\.0\.1/,
    );
    const bridged = {
      services: { inference: { ...resolved.services.inference, build: { context: '.', dockerfile: 'd' } } },
    };
    expect(() => loopbackOnly(bridged, ['inference'])).toThrow(/built without host networking/);
    expect(() => loopbackOnly(resolved, ['missing'])).toThrow(/no service missing/);
  });
});
