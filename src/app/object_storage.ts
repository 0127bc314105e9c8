// The storage port recordings (and rep exports) are kept in: a flat namespace of keys like
// `recordings/<callId>/chunk-000001.ogg`. Two adapters implement it: the local disk under DATA_DIR
// (default) and S3-compatible object storage (src/adapters/storage/).
import type { Readable } from 'node:stream';

/** Bytes `start` to `end`, both inclusive, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredObject {
  key: string;
  size: number;
}

export interface ObjectStorage {
  readonly kind: 'disk' | 's3';
  /** Writes the whole object; a reader never sees half of it. */
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** The object's bytes (a range of them when given), or undefined when there is no such object. */
  read(key: string, range?: ByteRange): Promise<Readable | undefined>;
  /** Every object whose key starts with prefix, in key order. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Deletes every object under prefix; returns how many there were. Deleting nothing is not an error. */
  deletePrefix(prefix: string): Promise<number>;
}

/** Keys are plain relative paths: no `..`, no leading slash, no odd characters. */
export function assertSafeKey(key: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`unsafe storage key: ${key}`);
  }
}
