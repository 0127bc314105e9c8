// Builds the configured ObjectStorage: the local disk under DATA_DIR/storage unless STORAGE_BACKEND=s3.
import { join } from 'node:path';
import type { ObjectStorage } from '../../app/object_storage.js';
import type { Config } from '../../config.js';
import { createDiskStorage } from './disk_storage.js';
import { createS3Storage } from './s3_storage.js';

export function createStorage(config: Readonly<Config>): ObjectStorage {
  if (config.STORAGE_BACKEND === 'disk') return createDiskStorage(join(config.DATA_DIR, 'storage'));
  return createS3Storage({
    bucket: config.S3_BUCKET ?? '',
    region: config.S3_REGION,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
    ...(config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY } }
      : {}),
  });
}
