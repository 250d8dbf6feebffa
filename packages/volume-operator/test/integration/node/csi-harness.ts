// The CSI node plugin as a child process on file-backed loop devices, plus what csi-sanity needs
// around it: a test-only Controller service that makes volumes (sparse file → loop device → the
// Nitro by-id link under the plugin's device root), and a front socket that passes the plugin's
// Identity and Node calls through byte for byte.
import { expect } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  credentials,
  Server,
  ServerCredentials,
  status,
  type Client,
  type MethodDefinition,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceError,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { CSI_SPEC_VERSION, loadCsi, type CsiServices } from '../../../src/node/csi-spec.ts';

export const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
export const PLUGIN_MAIN = join(repoRoot, 'packages/volume-operator/src/node/main.ts');
export const NODE_ID = 'i-0c5a1e5a11e5a1e5a';
export const ZONE = 'cn-northwest-1a';

/** Fails with a clear message when not root: loop devices and mounts need it. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the CSI node plugin tests need root (loop devices, mkfs, mount); CI runs as root — run them with sudo or in CI');
  }
}

/** Pinned tools: xfsprogs through apt if missing, csi.proto and csi-sanity from the Go module proxy (cached). */
export function ensureTools(): { protoPath: string; sanity: string } {
  execFileSync('bash', [join(repoRoot, 'testbed/scripts/install-node-tools.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const out = execFileSync('bash', [join(repoRoot, 'testbed/scripts/build-csi-tools.sh')], {
    env: { ...process.env, CSI_SPEC_VERSION },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [protoPath, sanity] = out.trim().split('\n');
  if (!protoPath || !sanity) throw new Error(`build-csi-tools.sh printed ${out}`);
  return { protoPath, sanity };
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Loop devices whose backing file lies under `dir`. */
export function loopsUnder(dir: string): { name: string; file: string }[] {
  const j = JSON.parse(sh('losetup', ['-J', '-l']) || '{"loopdevices":[]}') as { loopdevices: { name: string; 'back-file': string | null }[] };
  return j.loopdevices.filter((l) => (l['back-file'] ?? '').startsWith(dir)).map((l) => ({ name: l.name, file: l['back-file'] ?? '' }));
}

/** Mount points under `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p.startsWith(dir))
    .sort((a, b) => b.length - a.length);
}

/** Everything the machine holds of a run: counted by the tests before and after. */
export function machineCounts(dir: string): { loops: number; mounts: number } {
  return { loops: loopsUnder(dir).length, mounts: mountsUnder(dir).length };
}

/** Removes every mount and loop device under `dir`, then the directory: also after a failed test. */
export function scrub(dir: string): void {
  for (let i = 0; i < 4; i++) {
    const mounts = mountsUnder(dir);
    if (mounts.length === 0) break;
    for (const m of mounts) {
      try {
        sh('umount', [m]);
      } catch {
        /* retried below, then lazily */
      }
    }
  }
  for (const m of mountsUnder(dir)) sh('umount', ['-l', m]);
  for (const l of loopsUnder(dir)) sh('losetup', ['-d', l.name]);
  execFileSync('rm', ['-rf', '--one-file-system', dir]);
}

/**
 * The end of a run: counts what the tests left under `dir`, removes it whatever happened, and asserts both
 * that the scrub left nothing and that the tests had left nothing (`what` names who would have).
 */
export function scrubAndExpectClean(dir: string, what: string): void {
  const left = machineCounts(dir);
  scrub(dir);
  expect(machineCounts(dir)).toEqual({ loops: 0, mounts: 0 });
  expect(left, `loop devices / mounts ${what} left behind`).toEqual({ loops: 0, mounts: 0 });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A temp dir with the plugin's device root and the volume files. */
export class Workspace {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  static async create(prefix: string): Promise<Workspace> {
    const ws = new Workspace(await mkdtemp(join(tmpdir(), `kube-iaas-${prefix}-`)));
    await mkdir(ws.deviceRoot + '/disk/by-id', { recursive: true });
    await mkdir(ws.volumes, { recursive: true });
    return ws;
  }
  get deviceRoot(): string {
    return join(this.dir, 'dev');
  }
  get volumes(): string {
    return join(this.dir, 'volumes');
  }
  get socket(): string {
    return join(this.dir, 'plugin.sock');
  }
  linkOf(volumeId: string): string {
    return join(this.deviceRoot, 'disk/by-id', `nvme-Amazon_Elastic_Block_Store_${volumeId.replace('-', '')}`);
  }
  fileOf(volumeId: string): string {
    return join(this.volumes, `${volumeId}.img`);
  }

  /** "CreateVolume": a sparse file of the size. */
  async createVolume(bytes: number): Promise<string> {
    const id = `vol-${randomBytes(9).toString('hex').slice(0, 17)}`;
    await writeFile(this.fileOf(id), '', { flag: 'wx' });
    await truncate(this.fileOf(id), bytes);
    return id;
  }

  /** "AttachVolume": a loop device over the file, and the by-id link Nitro's udev would create. */
  attach(volumeId: string): string {
    const existing = loopsUnder(this.fileOf(volumeId));
    const dev = existing[0]?.name ?? sh('losetup', ['-f', '--show', this.fileOf(volumeId)]).trim();
    if (!existsSync(this.linkOf(volumeId))) execFileSync('ln', ['-s', dev, this.linkOf(volumeId)]);
    return dev;
  }

  /** "DetachVolume": link and loop device gone (a loop device still mounted goes when unmounted). */
  async detach(volumeId: string): Promise<void> {
    await unlink(this.linkOf(volumeId)).catch(() => undefined);
    for (const l of loopsUnder(this.fileOf(volumeId))) sh('losetup', ['-d', l.name]);
  }

  /** "ModifyVolume" + the kernel noticing: the file grows, the loop device re-reads its size. */
  async grow(volumeId: string, bytes: number): Promise<void> {
    await truncate(this.fileOf(volumeId), bytes);
    for (const l of loopsUnder(this.fileOf(volumeId))) sh('losetup', ['-c', l.name]);
  }

  async deleteVolume(volumeId: string): Promise<void> {
    await this.detach(volumeId);
    await rm(this.fileOf(volumeId), { force: true });
  }
}

export interface PluginProcess {
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
  rssKiB: () => { rss: number; hwm: number };
}

/** How the plugin is run: which entry file, with which flags for node (V8). */
export interface PluginShape {
  main: string;
  nodeFlags: string[];
}

/**
 * Starts the plugin and waits for its socket: the real entry point (`src/node/main.ts`) unless a
 * shape is given (the bundle, see scripts/bundle-node.ts) or the environment names another one.
 */
export async function startPlugin(ws: Workspace, protoPath: string, extra: string[] = [], shape?: PluginShape): Promise<PluginProcess> {
  // For measuring other shapes of the same plugin (compiled JS, V8 flags) without editing the tests.
  const nodeFlags = shape?.nodeFlags ?? (process.env['KUBE_IAAS_CSI_PLUGIN_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
  const args = [
    ...nodeFlags,
    shape?.main ?? process.env['KUBE_IAAS_CSI_PLUGIN_MAIN'] ?? PLUGIN_MAIN,
    `--endpoint=unix://${ws.socket}`,
    `--node-id=${NODE_ID}`,
    `--zone=${ZONE}`,
    // With node ID, zone and ENI count given, the plugin never asks instance metadata (tests talk to 127.0.0.1 only).
    '--attached-enis=1',
    `--device-root=${ws.deviceRoot}`,
    `--csi-proto=${protoPath}`,
    '--device-wait-timeout=2',
    ...extra,
  ];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!out.includes('CSI node plugin listening')) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      // Not left running behind a failed start (it would hold its socket and log nothing).
      proc.kill('SIGKILL');
      throw new Error(`the node plugin did not start:\n${out}`);
    }
    await sleep(50);
  }
  return {
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(6000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    },
    rssKiB: () => {
      const s = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
      return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- proto-loader clients are untyped
export type CsiClient = Client & Record<string, any>;

export function clients(csi: CsiServices, socket: string): { identity: CsiClient; node: CsiClient; close: () => void } {
  const identity = new csi.Identity(`unix:${socket}`, credentials.createInsecure()) as CsiClient;
  const node = new csi.Node(`unix:${socket}`, credentials.createInsecure()) as CsiClient;
  return { identity, node, close: () => (identity.close(), node.close()) };
}

/** One unary call; resolves to the response or to the gRPC error (code + details), never throws. */
export function call<T = Record<string, unknown>>(client: CsiClient, method: string, req: object): Promise<{ ok: true; res: T } | { ok: false; code: number; details: string }> {
  return new Promise((resolve) => {
    client[method](req, (err: { code: number; details: string } | null, res: T) => resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, res }));
  });
}

const raw = (b: Buffer): Buffer => b;

/** The same service with undecoded messages: a proxy that cannot change what passes through it. */
function passthroughDefinition(def: ServiceDefinition): ServiceDefinition {
  const out: Record<string, MethodDefinition<Buffer, Buffer>> = {};
  for (const [name, m] of Object.entries(def)) {
    out[name] = { ...m, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw };
  }
  return out as ServiceDefinition;
}

/**
 * The socket csi-sanity talks to. Identity and Node calls go to the plugin unchanged, except that
 * GetPluginCapabilities gains CONTROLLER_SERVICE: csi-sanity asks the node endpoint whether a
 * controller exists and otherwise skips the Node specs that need a volume ("should work", "should be
 * idempotent"). The Controller service is the test's own, over loop devices; the node plugin ships none.
 */
export async function startFront(csi: CsiServices, ws: Workspace, socket: string): Promise<{ close: () => Promise<void>; volumes: Map<string, string> }> {
  const upstream = clients(csi, ws.socket);
  const rawIdentity = passthroughDefinition(csi.Identity.service);
  const rawNode = passthroughDefinition(csi.Node.service);
  const forward = (client: Client, def: ServiceDefinition): UntypedServiceImplementation => {
    const impl: UntypedServiceImplementation = {};
    for (const [name, m] of Object.entries(def)) {
      impl[name] = (c: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
        client.makeUnaryRequest(m.path, raw, raw, c.request, (err, res) => cb(err, res));
      };
    }
    return impl;
  };
  // GetPluginCapabilities is decoded (to add one entry); the other Identity methods stay raw.
  const capsDef = csi.Identity.service['GetPluginCapabilities'];
  if (!capsDef) throw new Error('csi.proto has no GetPluginCapabilities');
  const identityDef = { ...rawIdentity, GetPluginCapabilities: capsDef } as ServiceDefinition;
  const identityImpl = forward(upstream.identity, rawIdentity);
  identityImpl['GetPluginCapabilities'] = (_c: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => {
    upstream.identity['GetPluginCapabilities']({}, (err: ServiceError | null, res: { capabilities: object[] }) => {
      if (err) return cb(err);
      cb(null, { capabilities: [...res.capabilities, { service: { type: 'CONTROLLER_SERVICE' } }] });
    });
  };
  const volumes = new Map<string, string>();
  const server = new Server();
  server.addService(identityDef, identityImpl);
  server.addService(rawNode, forward(upstream.node, rawNode));
  server.addService(csi.Controller.service, testController(ws, volumes));
  await new Promise<void>((res, rej) => server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  return {
    volumes,
    close: async () => {
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      upstream.close();
    },
  };
}

function testController(ws: Workspace, byName: Map<string, string>): UntypedServiceImplementation {
  const sizes = new Map<string, number>();
  type Cb = sendUnaryData<object>;
  const fail = (cb: Cb, code: status, details: string) => cb({ code, details });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- decoded proto-loader requests
  type Req = { request: any };
  return {
    ControllerGetCapabilities: (_c: Req, cb: Cb) =>
      cb(null, { capabilities: ['CREATE_DELETE_VOLUME', 'PUBLISH_UNPUBLISH_VOLUME'].map((type) => ({ rpc: { type } })) }),
    CreateVolume: (c: Req, cb: Cb) => {
      const { name, capacityRange } = c.request as { name: string; capacityRange: { requiredBytes: number } | null };
      if (!name) return fail(cb, status.INVALID_ARGUMENT, 'name is missing');
      const bytes = capacityRange?.requiredBytes || 1 << 30;
      const known = byName.get(name);
      const done = (id: string) =>
        cb(null, { volume: { volumeId: id, capacityBytes: sizes.get(id) ?? bytes, accessibleTopology: [{ segments: { 'topology.kubernetes.io/zone': ZONE } }] } });
      if (known) return done(known);
      ws.createVolume(bytes).then(
        (id) => {
          byName.set(name, id);
          sizes.set(id, bytes);
          done(id);
        },
        (e: Error) => fail(cb, status.INTERNAL, e.message),
      );
    },
    DeleteVolume: (c: Req, cb: Cb) => {
      const id = (c.request as { volumeId: string }).volumeId;
      if (!id) return fail(cb, status.INVALID_ARGUMENT, 'volume_id is missing');
      for (const [n, v] of byName) if (v === id) byName.delete(n);
      ws.deleteVolume(id).then(() => cb(null, {}), (e: Error) => fail(cb, status.INTERNAL, e.message));
    },
    ControllerPublishVolume: (c: Req, cb: Cb) => {
      const { volumeId, nodeId } = c.request as { volumeId: string; nodeId: string };
      if (!volumeId || !nodeId) return fail(cb, status.INVALID_ARGUMENT, 'volume_id or node_id is missing');
      if (!existsSync(ws.fileOf(volumeId))) return fail(cb, status.NOT_FOUND, `volume ${volumeId} does not exist`);
      try {
        ws.attach(volumeId);
        cb(null, { publishContext: { devicePath: '/dev/xvdba', volumeId, instanceId: nodeId } });
      } catch (e) {
        fail(cb, status.INTERNAL, (e as Error).message);
      }
    },
    ControllerUnpublishVolume: (c: Req, cb: Cb) => {
      const { volumeId } = c.request as { volumeId: string };
      ws.detach(volumeId).then(() => cb(null, {}), (e: Error) => fail(cb, status.INTERNAL, e.message));
    },
  };
}

export { loadCsi };
