/**
 * The Docker engine of the Docker test: the one already running (DOCKER_HOST, or the default socket),
 * else a dockerd of the test's own under a temporary folder, with no bridge, no iptables rules and no
 * IP forwarding, so the host's network is left as it was (containers use host networking on
 * loopback). Stopping it also unmounts whatever it left mounted there and checks that the host's
 * mounts, network links and ip_forward setting are back to what they were.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync, readdirSync, closeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DOCKER, mustRun, runCommand, sleep } from './commands';

export const DOCKERD = '/usr/sbin/dockerd';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

export interface Daemon {
  /** Environment for docker and docker-compose: DOCKER_HOST and a PATH where Debian's docker comes first. */
  env: NodeJS.ProcessEnv;
  /** True when the test started this daemon (and will stop it). */
  own: boolean;
  /** Stops the daemon if it is the test's own; resolves with notes on what was cleaned up. */
  stop(): Promise<string[]>;
}

/** What the host looks like before the daemon starts, to compare after it stopped. */
export interface HostState {
  mounts: string[];
  links: string[];
  ipForward: string;
}

/** Mount points, network links and IP forwarding of this machine now. */
export async function hostState(): Promise<HostState> {
  const mounts = await mustRun('findmnt', ['-rn', '-o', 'TARGET'], { timeoutMs: 10_000 });
  return {
    mounts: mounts.split('\n').filter(Boolean).sort(),
    links: existsSync('/sys/class/net') ? readdirSync('/sys/class/net').sort() : [],
    ipForward: existsSync(IP_FORWARD) ? readFileSync(IP_FORWARD, 'utf8').trim() : '',
  };
}

/**
 * What differs between two host states, in words; empty when nothing does.
 *
 * @example hostDifferences(before, { ...before, links: [...before.links, 'docker0'] }) // ['network link docker0 added']
 */
export function hostDifferences(before: HostState, after: HostState): string[] {
  const added = (a: string[], b: string[]) => b.filter((x) => !a.includes(x));
  return [
    ...added(before.mounts, after.mounts).map((m) => `mount ${m} left behind`),
    ...added(before.links, after.links).map((l) => `network link ${l} added`),
    ...added(after.links, before.links).map((l) => `network link ${l} removed`),
    ...(before.ipForward !== after.ipForward
      ? [`ip_forward changed from ${before.ipForward} to ${after.ipForward}`]
      : []),
  ];
}

/** The dockerd command line of the test's own daemon, everything under `root`. */
export function dockerdArgs(root: string): string[] {
  return [
    `--host=unix://${path.join(root, 'docker.sock')}`,
    `--data-root=${path.join(root, 'data')}`,
    `--exec-root=${path.join(root, 'exec')}`,
    `--pidfile=${path.join(root, 'dockerd.pid')}`,
    '--storage-driver=overlay2',
    // No docker0 bridge, no NAT rules, no forwarding: containers run with host networking only.
    '--bridge=none',
    '--iptables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--userland-proxy=false',
  ];
}

/** Environment for the Docker clients talking to `host`. */
function clientEnv(host: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // docker-compose v1 runs `docker` from PATH for builds (COMPOSE_DOCKER_CLI_BUILD).
    PATH: `/usr/bin:${process.env.PATH ?? ''}`,
    DOCKER_BUILDKIT: '1',
    COMPOSE_DOCKER_CLI_BUILD: '1',
  };
  if (host) env.DOCKER_HOST = host;
  return env;
}

async function answers(env: NodeJS.ProcessEnv): Promise<boolean> {
  const result = await runCommand(DOCKER, ['version', '--format', '{{.Server.Version}}'], {
    env,
    timeoutMs: 10_000,
  }).catch(() => null);
  return result?.code === 0;
}

/** Sends SIGTERM, then SIGKILL if the process has not exited in time. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const inTime = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
  if (!inTime) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Unmounts everything mounted below `root`, deepest first. */
async function unmountBelow(root: string): Promise<string[]> {
  const { mounts } = await hostState();
  const below = mounts.filter((m) => m.startsWith(`${root}/`)).sort((a, b) => b.length - a.length);
  for (const mount of below) {
    const result = await runCommand('umount', [mount], { timeoutMs: 10_000 });
    if (result.code !== 0) await runCommand('umount', ['-l', mount], { timeoutMs: 10_000 });
  }
  return below.map((m) => `unmounted ${m}`);
}

/**
 * The daemon to test with: an answering one if there is one, else our own.
 *
 * @returns the daemon, or the reason no daemon could be had (dockerd missing, or it did not start).
 */
export async function connectOrStartDaemon(): Promise<Daemon | { unavailable: string }> {
  const existing = clientEnv(process.env.DOCKER_HOST);
  if (await answers(existing)) {
    return { env: existing, own: false, stop: async () => [] };
  }
  if (!existsSync(DOCKERD)) return { unavailable: `${DOCKERD} is not installed (apt-get install docker.io)` };
  if (process.getuid?.() !== 0) return { unavailable: 'starting dockerd needs root' };

  const before = await hostState();
  const root = await mkdtemp(path.join(os.tmpdir(), 'fer-dockerd-'));
  const logFile = path.join(root, 'dockerd.log');
  const log = openSync(logFile, 'a');
  const child = spawn(DOCKERD, dockerdArgs(root), { stdio: ['ignore', log, log] });
  closeSync(log);
  const env = clientEnv(`unix://${path.join(root, 'docker.sock')}`);

  const stop = async (): Promise<string[]> => {
    await terminate(child);
    const notes = await unmountBelow(root);
    await rm(root, { recursive: true, force: true });
    const after = await hostState();
    // Only mounts of this daemon count: other processes on a shared machine may mount things meanwhile.
    const ours = (state: HostState) => ({ ...state, mounts: state.mounts.filter((m) => m.startsWith(root)) });
    const left = hostDifferences(ours(before), ours(after));
    if (left.length > 0) throw new Error(`the host is not as before the test: ${left.join('; ')}`);
    return [...notes, 'host mounts, network links and ip_forward as before'];
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(env))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
      await stop().catch(() => undefined);
      return {
        unavailable: `dockerd did not start (${child.exitCode !== null ? 'it exited' : 'timed out'}):\n${tail}`,
      };
    }
    await sleep(250);
  }
  return { env, own: true, stop };
}
