// One contract for both blob store adapters: the local directory and S3 on a real MinIO.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freshBucket, testMinioClient, testS3Config } from '../../test/services.js';
import { BlobNotFoundError, type BlobStore } from './blob-store.js';
import { createBlobStore } from './create-blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

const tempDirs: string[] = [];
afterAll(() => Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relearn-blobs-'));
  tempDirs.push(dir);
  return dir;
}

const adapters: { name: string; create: () => Promise<BlobStore> }[] = [
  { name: LocalBlobStore.name, create: async () => new LocalBlobStore(await tempDir()) },
  {
    name: S3BlobStore.name,
    create: async () => {
      const sut = new S3BlobStore(testS3Config(await freshBucket('blob-store')));
      await sut.ensureBucket();
      return sut;
    },
  },
];

describe.each(adapters)('BlobStore contract: $name', ({ create }) => {
  it('gives back exactly the bytes it was given (every byte value, 1 MiB of noise, UTF-8 text)', async () => {
    const sut = await create();
    const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
    const noise = randomBytes(1 << 20);
    const text = 'naïve Bayes ✓ 模型 🚀\n\0end';
    await sut.put('bytes.bin', everyByte);
    await sut.put('noise.bin', noise, 'application/octet-stream');
    await sut.put('text.txt', text, 'text/plain');
    expect(Buffer.compare(await sut.get('bytes.bin'), Buffer.from(everyByte))).toBe(0);
    expect(Buffer.compare(await sut.get('noise.bin'), noise)).toBe(0);
    expect((await sut.get('text.txt')).toString('utf8')).toBe(text);
  });

  it('puts a view of a larger buffer as only the viewed bytes', async () => {
    const sut = await create();
    const whole = Buffer.from('0123456789');
    await sut.put('slice', whole.subarray(3, 6));
    expect((await sut.get('slice')).toString()).toBe('345');
  });

  it('says whether a blob exists', async () => {
    const sut = await create();
    expect(await sut.exists('reports/r1.json')).toBe(false);
    await sut.put('reports/r1.json', '{}');
    expect(await sut.exists('reports/r1.json')).toBe(true);
    expect(await sut.exists('reports')).toBe(false);
  });

  it('throws BlobNotFoundError for a missing key', async () => {
    const sut = await create();
    await sut.put('datasets/a/rows.jsonl', 'x');
    for (const key of ['nothing-here', 'datasets/a/missing.jsonl', 'datasets/a', 'datasets/a/rows.jsonl/below']) {
      const error = await sut.get(key).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, key).toBeInstanceOf(BlobNotFoundError);
      expect((error as BlobNotFoundError).key).toBe(key);
      expect((error as Error).message).toContain(key);
    }
  });

  it('replaces a blob that is put again', async () => {
    const sut = await create();
    await sut.put('models/spam/live.json', '{"version":1}');
    await sut.put('models/spam/live.json', '{"version":2, "longer": true}');
    expect((await sut.get('models/spam/live.json')).toString()).toBe('{"version":2, "longer": true}');
    expect(await sut.list('models/')).toEqual(['models/spam/live.json']);
  });

  it('lists keys by plain string prefix, sorted, and nothing for an unknown prefix', async () => {
    const sut = await create();
    const keys = ['runs/1/a.json', 'runs/1/b.json', 'runs/10/c.json', 'runs/2/d.json', 'other/x.json', 'top.json'];
    for (const key of [...keys].reverse()) await sut.put(key, key);
    expect(await sut.list('runs/1/')).toEqual(['runs/1/a.json', 'runs/1/b.json']);
    expect(await sut.list('runs/1')).toEqual(['runs/1/a.json', 'runs/1/b.json', 'runs/10/c.json']);
    expect(await sut.list('runs/')).toEqual(['runs/1/a.json', 'runs/1/b.json', 'runs/10/c.json', 'runs/2/d.json']);
    expect(await sut.list('')).toEqual([...keys].sort());
    expect(await sut.list('to')).toEqual(['top.json']);
    expect(await sut.list('nope/')).toEqual([]);
  });

  it('keeps keys with many slashes as distinct blobs', async () => {
    const sut = await create();
    await sut.put('datasets/spam/v3/2026-02-12/rows.jsonl', 'rows');
    await sut.put('datasets/spam/v3/2026-02-12/manifest.json', 'manifest');
    expect((await sut.get('datasets/spam/v3/2026-02-12/rows.jsonl')).toString()).toBe('rows');
    expect((await sut.get('datasets/spam/v3/2026-02-12/manifest.json')).toString()).toBe('manifest');
    expect(await sut.list('datasets/spam/v3/')).toEqual(['datasets/spam/v3/2026-02-12/manifest.json', 'datasets/spam/v3/2026-02-12/rows.jsonl']);
  });

  it('deletes a blob, and deleting a missing one is not an error', async () => {
    const sut = await create();
    await sut.put('tmp/a', 'a');
    await sut.put('tmp/b', 'b');
    await sut.delete('tmp/a');
    await sut.delete('tmp/never-there');
    expect(await sut.exists('tmp/a')).toBe(false);
    await expect(sut.get('tmp/a')).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await sut.list('tmp/')).toEqual(['tmp/b']);
  });
});

describe(LocalBlobStore.name, () => {
  it('refuses keys that leave its directory', async () => {
    const sut = new LocalBlobStore(await tempDir());
    await expect(sut.put('../outside', 'x')).rejects.toThrow(/escapes the store/);
    await expect(sut.get('a/../../outside')).rejects.toThrow(/escapes the store/);
  });

  it('leaves no visible partial blob when the process dies in the middle of a write', async () => {
    const root = await tempDir();
    const sut = new LocalBlobStore(root);
    await sut.put('models/spam.bin', 'version 1');

    // A child process whose file writes stop halfway and then kill it, as a crash or power cut would.
    const storeModule = new URL('./local-blob-store.ts', import.meta.url).href;
    const script = `
      import { createRequire, syncBuiltinESMExports } from 'node:module';
      const fsp = createRequire(import.meta.url)('node:fs/promises');
      const writeFile = fsp.writeFile;
      fsp.writeFile = async (file, data) => {
        await writeFile(file, data.subarray(0, data.length >> 1));
        process.kill(process.pid, 'SIGKILL');
      };
      syncBuiltinESMExports();
      const { LocalBlobStore } = await import(${JSON.stringify(storeModule)});
      const store = new LocalBlobStore(process.env.BLOB_ROOT);
      await store.put('models/spam.bin', Buffer.alloc(1 << 20, 2));
      await store.put('models/fraud.bin', Buffer.alloc(1 << 20, 3));
    `;
    const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
    const signal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: repoRoot,
        env: { ...process.env, BLOB_ROOT: root },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.once('error', reject);
      child.once('exit', (_code, sig) => resolve(sig));
    });
    expect(signal).toBe('SIGKILL');
    // The half-written bytes are on disk, under a name no reader looks at.
    expect((await readdir(join(root, 'models'))).filter((f) => f.endsWith('.partial'))).toHaveLength(1);

    const reader = new LocalBlobStore(root);
    expect((await reader.get('models/spam.bin')).toString()).toBe('version 1');
    expect(await reader.list('')).toEqual(['models/spam.bin']);
    expect(await reader.exists('models/fraud.bin')).toBe(false);
    await reader.put('models/spam.bin', 'version 2');
    expect((await reader.get('models/spam.bin')).toString()).toBe('version 2');
  });
});

describe(createBlobStore.name, () => {
  it('keeps blobs under <dataDir>/blobs without S3 settings', async () => {
    const dataDir = await tempDir();
    const sut = await createBlobStore({ s3: null }, dataDir);
    expect(sut).toBeInstanceOf(LocalBlobStore);
    await sut.put('a/b.txt', 'b');
    expect(await readdir(join(dataDir, 'blobs', 'a'))).toEqual(['b.txt']);
  });

  it('uses S3 with S3 settings, creating the bucket when it is missing', async () => {
    const bucket = `relearn-new-${randomBytes(5).toString('hex')}`;
    expect(await testMinioClient().bucketExists(bucket)).toBe(false);
    const sut = await createBlobStore({ s3: testS3Config(bucket) }, await tempDir());
    expect(sut).toBeInstanceOf(S3BlobStore);
    expect(await testMinioClient().bucketExists(bucket)).toBe(true);
    await sut.put('k', 'v');
    const again = await createBlobStore({ s3: testS3Config(bucket) }, await tempDir());
    expect((await again.get('k')).toString()).toBe('v');
  });

  it('fails clearly when the S3 endpoint refuses the credentials', async () => {
    const s3 = { ...testS3Config('relearn-denied'), secretKey: 'not-the-secret-key' };
    await expect(createBlobStore({ s3 }, await tempDir())).rejects.toThrow(
      /object storage bucket relearn-denied at http:\/\/127\.0\.0\.1:\d+ is unreachable or refused access/,
    );
  });
});
