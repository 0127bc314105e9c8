// A real S3-compatible server on loopback for the storage tests: SeaweedFS's S3 gateway, built by
// `npm run stack:install` (sip/stack/install_seaweedfs.sh) into the per-machine cache and linked
// as .stack/seaweedfs. Requests are signed (SigV4) with keys from an identity file, as production's.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Storage } from '../../src/adapters/storage/s3_storage.js';
import { freePort } from './ports.js';
import { projectRoot } from './process.js';

export const weedBinary = join(projectRoot, '.stack', 'seaweedfs', 'weed');

export interface SeaweedS3 {
  endpoint: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** Creates a bucket (the S3 API, signed like every other request). */
  createBucket(name: string): Promise<void>;
  /** Stops the server for good and removes its data. */
  stop(): Promise<void>;
  /** Stops the S3 endpoint (the gateway process) but keeps the data and ports, as an outage would. */
  stopServer(): Promise<void>;
  /** Starts it again on the same ports and data folder, after stopServer(). */
  restart(): Promise<void>;
}

export async function startSeaweedS3(): Promise<SeaweedS3> {
  if (!existsSync(weedBinary)) throw new Error(`${weedBinary} is missing: run npm run stack:install`);
  const dir = mkdtempSync(join(tmpdir(), 'practice-line-s3-'));
  const [master, volume, filer, s3, masterGrpc, volumeGrpc, filerGrpc, s3Grpc, admin, adminGrpc] = (await Promise.all(Array.from({ length: 10 }, () => freePort()))) as [number, number, number, number, number, number, number, number, number, number];
  const accessKeyId = 'practiceline';
  const secretAccessKey = 'practiceline-test-secret-key-0123';
  const identities = { identities: [{ name: 'tests', credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }], actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'] }] };
  writeFileSync(join(dir, 's3.json'), JSON.stringify(identities));
  const wrapped = spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;
  // Master, volume and filer in one process; the S3 gateway in another, so an outage can stop the
  // gateway alone: the client sees exactly what it would (connection refused at the endpoint), the
  // data stays put, and the gateway is back in about a second. `weed mini`, not `weed server`: its
  // single-master filer announces itself at once, where `server`'s holds its registration to
  // confirm no other filer exists (ready in ~5.5 s instead of ~11 s), and it stops in ~1.5 s
  // instead of the 5 s `server` spends on its volume pre-stop. Every listener gets a free port
  // (the admin server's gRPC port would otherwise be a fixed 10000); the Iceberg and Lance ones
  // are off, their fixed default ports would collide between files.
  const storageArgs = [
    'mini',
    `-dir=${dir}`,
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-master.port=${master}`,
    `-master.port.grpc=${masterGrpc}`,
    `-volume.port=${volume}`,
    `-volume.port.grpc=${volumeGrpc}`,
    `-filer.port=${filer}`,
    `-filer.port.grpc=${filerGrpc}`,
    `-admin.port=${admin}`,
    `-admin.port.grpc=${adminGrpc}`,
    '-admin.port.legacy=0',
    '-admin.ui=false',
    '-s3=false',
    '-webdav=false',
    '-volume.max=50',
    '-master.volumeSizeLimitMB=64',
  ];
  const gatewayArgs = [
    's3',
    `-filer=127.0.0.1:${filer}.${filerGrpc}`,
    '-ip.bind=127.0.0.1',
    `-port=${s3}`,
    `-port.grpc=${s3Grpc}`,
    '-port.iceberg=0',
    '-port.lance=0',
    `-config=${join(dir, 's3.json')}`,
  ];
  const endpoint = `http://127.0.0.1:${s3}`;
  let log = '';
  const launch = (args: string[]): ChildProcess => {
    const child = spawn(wrapped ? 'setpriv' : weedBinary, wrapped ? ['--pdeathsig', 'KILL', '--', weedBinary, ...args] : args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (bytes: Buffer) => (log = (log + bytes.toString()).slice(-20_000)));
    child.stderr?.on('data', (bytes: Buffer) => (log = (log + bytes.toString()).slice(-20_000)));
    return child;
  };
  const storageServer = launch(storageArgs);
  let gateway: ChildProcess | undefined;
  const exitCode = () => storageServer.exitCode ?? gateway?.exitCode ?? null;

  const start = async () => {
    gateway = launch(gatewayArgs);
    await waitUntilServing(endpoint, accessKeyId, secretAccessKey, () => log, exitCode);
  };
  const kill = async (child: ChildProcess | undefined, signal: NodeJS.Signals) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  // An outage is abrupt.
  const stopGateway = () => kill(gateway, 'SIGKILL');

  await start();
  const storageFor = (bucket: string) => createS3Storage({ bucket, region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  return {
    endpoint,
    port: s3,
    accessKeyId,
    secretAccessKey,
    async createBucket(name) {
      await storageFor(name).client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      await stopGateway();
      await kill(storageServer, 'SIGTERM');
      if (process.env.KEEP_S3_DATA === undefined) rmSync(dir, { recursive: true, force: true });
    },
    stopServer: stopGateway,
    async restart() {
      await start();
    },
  };
}

/**
 * Ready when a signed write succeeds. A bucket alone is not enough: the gateway answers as soon as
 * the filer does, and a write before the volume server has registered fails with InternalError.
 */
async function waitUntilServing(endpoint: string, accessKeyId: string, secretAccessKey: string, log: () => string, exitCode: () => number | null): Promise<void> {
  const probe = createS3Storage({ bucket: 'probe', region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, requestTimeoutMs: 2_000 });
  const deadline = Date.now() + 90_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exitCode() !== null) throw new Error(`weed exited (${exitCode()}):\n${log()}`);
    try {
      await probe.client.send(new CreateBucketCommand({ Bucket: 'probe' })).catch((error: unknown) => {
        const name = (error as { name?: string }).name;
        if (name !== 'BucketAlreadyExists' && name !== 'BucketAlreadyOwnedByYou') throw error;
      });
      await probe.client.send(new PutObjectCommand({ Bucket: 'probe', Key: 'ready', Body: 'ready' }));
      return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`SeaweedFS S3 never accepted a write at ${endpoint}: ${String(lastError)}\n${log()}`);
}
