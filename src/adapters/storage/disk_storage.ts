// ObjectStorage on the local disk (the default, so `npm start` needs nothing): one file per key
// under root. Writes go to a temporary file renamed into place, so a reader never sees half a chunk.
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { assertSafeKey, type ByteRange, type ObjectStorage, type StoredObject } from '../../app/object_storage.js';

export function createDiskStorage(root: string): ObjectStorage {
  const pathOf = (key: string) => {
    assertSafeKey(key);
    return join(root, key);
  };
  return {
    kind: 'disk',
    async put(key, body) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.${Date.now()}.part`;
      await writeFile(temporary, body);
      await rename(temporary, path);
    },
    async read(key: string, range?: ByteRange): Promise<Readable | undefined> {
      const path = pathOf(key);
      const found = await stat(path).catch(() => undefined);
      if (!found?.isFile()) return undefined;
      return createReadStream(path, range ? { start: range.start, end: range.end } : {});
    },
    async list(prefix) {
      assertSafeKey(prefix.replace(/\/$/, '') || 'x');
      // The deepest folder the prefix names fully; files in it are filtered by the rest.
      const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const entries = await readdir(join(root, folder), { recursive: true, withFileTypes: true }).catch(() => []);
      const objects: StoredObject[] = [];
      for (const entry of entries) {
        if (!entry.isFile() || entry.name.endsWith('.part')) continue;
        const path = join(entry.parentPath, entry.name);
        const key = relative(root, path).split(sep).join('/');
        if (!key.startsWith(prefix)) continue;
        objects.push({ key, size: (await stat(path)).size });
      }
      return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async deletePrefix(prefix) {
      const objects = await this.list(prefix);
      for (const object of objects) await rm(join(root, object.key), { force: true });
      // Folders the prefix names are removed too, once empty.
      if (prefix.endsWith('/')) await rm(join(root, prefix), { recursive: true, force: true });
      return objects.length;
    },
  };
}
