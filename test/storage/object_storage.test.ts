// The storage port's two adapters, held to one contract: the local disk, and S3 against a real
// S3-compatible server (SeaweedFS) on loopback. Recordings are stored as chunks and read back as
// one file, range requests included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStorage } from '../../src/app/object_storage.js';
import { openRecordingFile, recordingChunkKey, recordingPrefix } from '../../src/app/recording_files.js';
import { createDiskStorage } from '../../src/adapters/storage/disk_storage.js';
import { createS3Storage } from '../../src/adapters/storage/s3_storage.js';
import { type SeaweedS3, startSeaweedS3 } from '../support/seaweedfs.js';

async function bytesOf(stream: Readable | undefined): Promise<Buffer> {
  if (stream === undefined) throw new Error('no such object');
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

/** Distinct bytes per position, so an off-by-one in any range shows. */
function pattern(length: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 7 + seed) % 251));
}

function contract(name: string, make: () => ObjectStorage) {
  describe(name, () => {
    it('stores chunks, lists them in order, reads ranges and deletes by prefix', async () => {
      const storage = make();
      const callId = `call-${Math.random().toString(36).slice(2)}`;
      const chunks = [pattern(70_000, 1), pattern(10, 2), pattern(33_333, 3)];
      // Uploaded out of order: the key, not the upload time, orders them.
      for (const index of [2, 0, 1]) await storage.put(recordingChunkKey(callId, index + 1), chunks[index]!, 'audio/ogg');
      await storage.put(`recordings/${callId}-other/chunk-000001.ogg`, pattern(5, 9), 'audio/ogg');

      const listed = await storage.list(recordingPrefix(callId));
      expect(listed.map((object) => object.key)).toEqual([1, 2, 3].map((index) => recordingChunkKey(callId, index)));
      expect(listed.map((object) => object.size)).toEqual(chunks.map((chunk) => chunk.length));

      expect(await bytesOf(await storage.read(recordingChunkKey(callId, 1), { start: 100, end: 199 }))).toEqual(chunks[0]!.subarray(100, 200));
      expect(await storage.read(recordingChunkKey(callId, 9))).toBeUndefined();

      const whole = Buffer.concat(chunks);
      const file = await openRecordingFile(storage, callId);
      expect(file?.size).toBe(whole.length);
      expect(await bytesOf(file!.open())).toEqual(whole);
      // A range that starts in the first chunk, spans the tiny one and ends inside the third.
      expect(await bytesOf(file!.open({ start: 69_990, end: 70_050 }))).toEqual(whole.subarray(69_990, 70_051));
      expect(await bytesOf(file!.open({ start: whole.length - 1, end: whole.length - 1 }))).toEqual(whole.subarray(-1));

      expect(await storage.deletePrefix(recordingPrefix(callId))).toBe(3);
      expect(await storage.list(recordingPrefix(callId))).toEqual([]);
      expect(await openRecordingFile(storage, callId)).toBeUndefined();
      // Safe to re-run, and the neighbour whose key merely starts alike is untouched.
      expect(await storage.deletePrefix(recordingPrefix(callId))).toBe(0);
      expect((await storage.list(`recordings/${callId}-other/`)).length).toBe(1);
    });

    it('refuses keys that could escape the store', async () => {
      const storage = make();
      await expect(storage.put('../outside.ogg', pattern(1, 0), 'audio/ogg')).rejects.toThrow(/unsafe storage key/);
      await expect(storage.put('/abs.ogg', pattern(1, 0), 'audio/ogg')).rejects.toThrow(/unsafe storage key/);
    });
  });
}

const diskRoot = mkdtempSync(join(tmpdir(), 'practice-line-disk-'));
afterAll(() => rmSync(diskRoot, { recursive: true, force: true }));
contract('disk storage', () => createDiskStorage(diskRoot));

describe('S3 storage against SeaweedFS', () => {
  let s3: SeaweedS3;
  const bucket = 'recordings-test';
  beforeAll(async () => {
    s3 = await startSeaweedS3();
    await s3.createBucket(bucket);
  }, 120_000);
  afterAll(async () => {
    await s3?.stop();
  });
  const make = () => createS3Storage({ bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  contract('adapter', make);

  it('rejects a request signed with the wrong secret (SigV4 is checked)', async () => {
    const wrong = createS3Storage({ bucket, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: 'not-the-secret-key-at-all-000000' } });
    await expect(wrong.put('recordings/x/chunk-000001.ogg', pattern(3, 0), 'audio/ogg')).rejects.toThrow();
  });
});
