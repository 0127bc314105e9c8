// ObjectStorage on S3 or any S3-compatible service (SeaweedFS in the tests, MinIO, R2...).
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { assertSafeKey, type ObjectStorage, type StoredObject } from '../../app/object_storage.js';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Per-request time limit, so a storage outage fails fast instead of hanging a caller. */
  requestTimeoutMs?: number;
}

export function createS3Storage(options: S3StorageOptions): ObjectStorage & { client: S3Client } {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 10_000, connectionTimeout: options.requestTimeoutMs ?? 10_000 },
    maxAttempts: 2,
  });
  const Bucket = options.bucket;

  const list = async (prefix: string): Promise<StoredObject[]> => {
    const objects: StoredObject[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ...(ContinuationToken ? { ContinuationToken } : {}) }));
      for (const item of page.Contents ?? []) if (item.Key !== undefined) objects.push({ key: item.Key, size: item.Size ?? 0 });
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  };

  return {
    kind: 's3',
    client,
    async put(key, body, contentType) {
      assertSafeKey(key);
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: contentType }));
    },
    async read(key, range) {
      assertSafeKey(key);
      try {
        const object = await client.send(new GetObjectCommand({ Bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
        const body = object.Body;
        if (body === undefined) return Readable.from([]);
        return body instanceof Readable ? body : Readable.fromWeb(body.transformToWebStream() as never);
      } catch (error) {
        if (error instanceof NoSuchKey || (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)) return undefined;
        throw error;
      }
    },
    list,
    async deletePrefix(prefix) {
      const objects = await list(prefix);
      for (let i = 0; i < objects.length; i += 1000) {
        const batch = objects.slice(i, i + 1000);
        const result = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch.map((object) => ({ Key: object.key })), Quiet: true } }));
        if (result.Errors && result.Errors.length > 0) throw new Error(`S3 refused to delete ${result.Errors.length} object(s): ${result.Errors[0]?.Code ?? ''}`);
      }
      return objects.length;
    },
  };
}
