import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { BlobNotFoundError, type BlobStore } from './blob-store.js';

/** Names of blobs being written; never listed or served. */
const PARTIAL = /^\..+\.partial$/;

/** The embedded adapter: one file per blob under a directory, the key as its relative path. */
export class LocalBlobStore implements BlobStore {
  readonly description: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.description = `directory ${this.root}`;
  }

  private path(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`blob key escapes the store: ${key}`);
    return path;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    // Write beside, then rename: rename is atomic within a filesystem, so no half-written blob is ever visible.
    const temp = join(dirname(path), `.${randomUUID()}.partial`);
    try {
      await writeFile(temp, body);
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: a parent of the key is itself a blob; EISDIR: the key is a folder of blobs.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw new BlobNotFoundError(key, this.description, { cause: error });
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.path(key)).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  async list(prefix: string): Promise<string[]> {
    // Walk only the deepest folder the prefix names fully, then filter by the whole prefix.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = folder ? this.path(folder) : this.root;
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile() && !PARTIAL.test(entry.name)) {
          const key = relative(this.root, full).split(sep).join('/');
          if (key.startsWith(prefix)) keys.push(key);
        }
      }
    };
    await walk(start);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    if (await this.exists(key)) await rm(path, { force: true });
  }
}
