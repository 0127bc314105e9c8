// Storage that goes down mid-call: the recording's chunks wait in the local spool (the call goes on),
// and a later job uploads them once the S3-compatible server (SeaweedFS, real) is back. Nothing is lost.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createChunkUploader, uploadSpooledChunks } from '../../agent/recording/chunk_uploader.js';
import { createS3Storage } from '../../src/adapters/storage/s3_storage.js';
import { openRecordingFile } from '../../src/app/recording_files.js';
import { type SeaweedS3, startSeaweedS3 } from '../support/seaweedfs.js';
import { waitFor } from '../support/wait.js';

let s3: SeaweedS3;
const spoolDir = mkdtempSync(join(tmpdir(), 'practice-line-spool-'));
beforeAll(async () => {
  s3 = await startSeaweedS3();
  await s3.createBucket('spool-test');
}, 120_000);
afterAll(async () => {
  await s3?.stop();
  rmSync(spoolDir, { recursive: true, force: true });
});

async function bytesOf(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

it('keeps chunks in the spool while S3 is down and uploads them later, in order', async () => {
  const storage = createS3Storage({ bucket: 'spool-test', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, requestTimeoutMs: 1_000 });
  const logger = pino({ level: 'silent' });
  const callId = '6f1c1f2e-3b9a-4c56-9d0e-2a7b8c9d0e1f';
  const uploader = await createChunkUploader({ storage, spoolDir, callId, chunkMs: 200, logger });
  const sent: Buffer[] = [];
  const append = (seed: number) => {
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i + seed) % 256));
    sent.push(bytes);
    uploader.append(bytes);
  };

  append(1);
  await waitFor('first chunk stored', async () => (uploader.stored.chunks >= 1 ? true : undefined), 10_000);
  await s3.stopServer();
  append(2);
  await new Promise((resolve) => setTimeout(resolve, 300));
  append(3);
  // The call ends while storage is still down: what is left stays in the spool, appending never threw.
  const left = await uploader.finish(2_000);
  expect(left).toBe(2);
  expect(readdirSync(join(spoolDir, callId)).filter((name) => name.endsWith('.ogg'))).toHaveLength(2);

  await s3.restart();
  expect(await uploadSpooledChunks(storage, spoolDir, logger)).toBe(2);
  expect(existsSync(join(spoolDir, callId))).toBe(false);
  const file = await openRecordingFile(storage, callId);
  expect(await bytesOf(file!.open())).toEqual(Buffer.concat(sent));
}, 120_000);
