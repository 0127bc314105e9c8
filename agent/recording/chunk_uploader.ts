// The recording's bytes, cut into chunks every few seconds, written to a local spool folder as they
// arrive (so a killed job leaves even its unfinished chunk behind) and uploaded to storage from there. A chunk leaves the spool only once storage has it, so storage
// that is down (S3 unreachable) delays the upload instead of losing audio or stalling the call:
// failed uploads are retried with backoff while the call goes on, and whatever is left when the
// job ends is uploaded by a later job (uploadSpooledChunks).
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ObjectStorage } from '../../src/app/object_storage.js';
import { RECORDING_CONTENT_TYPE, recordingChunkKey } from '../../src/app/recording_files.js';

export interface ChunkUploaderOptions {
  storage: ObjectStorage;
  spoolDir: string;
  callId: string;
  chunkMs: number;
  logger: Logger;
  /** After each chunk reaches storage: how many chunks and bytes are stored so far. */
  onStored?(stored: { chunks: number; bytes: number }): void;
}

export interface ChunkUploader {
  /** Bytes to append to the recording. */
  append(bytes: Buffer): void;
  /** Cuts the last chunk and waits (at most timeoutMs) until every chunk is stored; returns how many are not. */
  finish(timeoutMs: number): Promise<number>;
  readonly stored: { chunks: number; bytes: number };
}

const OWNER_FILE = 'owner.pid';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function createChunkUploader(options: ChunkUploaderOptions): Promise<ChunkUploader> {
  const dir = join(options.spoolDir, options.callId);
  await mkdir(dir, { recursive: true });
  // While this process lives, the spool folder is its own: a sweep by another job leaves it alone.
  await writeFile(join(dir, OWNER_FILE), String(process.pid));
  const pending: { index: number; path: string; size: number }[] = [];
  const stored = { chunks: 0, bytes: 0 };
  /** The chunk being written; appended to on disk as bytes arrive. */
  let current: { index: number; path: string; size: number } | undefined;
  let index = 0;
  let finishing = false;
  /** finish() timed out: the rest is left to a later job's sweep. */
  let abandoned = false;
  let wake: (() => void) | undefined;
  let spoolWrites = Promise.resolve();

  const cut = () => {
    const chunk = current;
    if (chunk === undefined) return;
    current = undefined;
    spoolWrites = spoolWrites.then(() => {
      pending.push(chunk);
      wake?.();
    });
  };
  const timer = setInterval(cut, options.chunkMs);

  const uploadLoop = (async () => {
    let delayMs = 500;
    while (!abandoned) {
      const chunk = pending[0];
      if (chunk === undefined) {
        if (finishing) return;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      try {
        await options.storage.put(recordingChunkKey(options.callId, chunk.index), await readFile(chunk.path), RECORDING_CONTENT_TYPE);
        await unlink(chunk.path);
        pending.shift();
        stored.chunks += 1;
        stored.bytes += chunk.size;
        delayMs = 500;
        options.onStored?.({ ...stored });
      } catch (error) {
        options.logger.warn({ err: error, chunk: chunk.index, retryInMs: delayMs }, 'recording chunk not stored yet; kept in the spool');
        await Promise.race([sleep(delayMs), new Promise<void>((resolve) => (wake = resolve))]);
        delayMs = Math.min(delayMs * 2, 10_000);
      }
    }
  })();

  return {
    stored,
    append(bytes) {
      if (current === undefined) {
        index += 1;
        current = { index, path: join(dir, `chunk-${String(index).padStart(6, '0')}.ogg`), size: 0 };
      }
      const chunk = current;
      chunk.size += bytes.length;
      spoolWrites = spoolWrites
        .then(() => appendFile(chunk.path, bytes))
        .catch((error: unknown) => options.logger.error({ err: error, chunk: chunk.index }, 'recording bytes not spooled'));
    },
    async finish(timeoutMs) {
      clearInterval(timer);
      cut();
      await spoolWrites;
      finishing = true;
      wake?.();
      await Promise.race([uploadLoop, sleep(timeoutMs)]);
      abandoned = true;
      wake?.();
      if (pending.length === 0) await rm(dir, { recursive: true, force: true });
      else await rm(join(dir, OWNER_FILE), { force: true });
      return pending.length;
    },
  };
}

/** Uploads chunks earlier jobs left in the spool (storage was down, or the job was killed); returns how many. */
export async function uploadSpooledChunks(storage: ObjectStorage, spoolDir: string, logger: Logger): Promise<number> {
  const callIds = await readdir(spoolDir).catch(() => [] as string[]);
  let uploaded = 0;
  for (const callId of callIds) {
    const dir = join(spoolDir, callId);
    if (existsSync(join(dir, OWNER_FILE)) && ownerAlive(await readFile(join(dir, OWNER_FILE), 'utf8'))) continue;
    const files = (await readdir(dir).catch(() => [] as string[])).filter((name) => /^chunk-\d{6}\.ogg$/.test(name)).sort();
    try {
      for (const name of files) {
        const chunkIndex = Number(name.slice(6, 12));
        await storage.put(recordingChunkKey(callId, chunkIndex), await readFile(join(dir, name)), RECORDING_CONTENT_TYPE);
        await unlink(join(dir, name));
        uploaded += 1;
      }
      await rm(dir, { recursive: true, force: true });
    } catch (error) {
      logger.warn({ err: error, callId }, 'spooled recording chunks not uploaded yet');
    }
  }
  if (uploaded > 0) logger.info({ uploaded }, 'spooled recording chunks uploaded');
  return uploaded;
}

function ownerAlive(pid: string): boolean {
  const owner = Number(pid);
  if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid) return owner === process.pid;
  try {
    process.kill(owner, 0);
    return true;
  } catch {
    return false;
  }
}
