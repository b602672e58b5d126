// The BlobStore against a real S3 API (the run's moto server) and a real folder.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PNG } from 'pngjs';
import { openBlobStore, type BlobStore } from '../../storage/blobstore';
import { BlobCorrupted, BlobNotFound, InvalidBlobKey, InvalidImage, StoreMisconfigured } from '../../storage/errors';
import { testS3Endpoint } from '../setup/env';

/** A PNG whose pixels depend on seed, so that different seeds give different images. */
function makePng(width: number, height: number, seed: number): Buffer {
  const png = new PNG({ width, height });
  for (let i = 0; i < png.data.length; i += 4) {
    png.data[i] = (i * 7 + seed) % 256;
    png.data[i + 1] = (i * 13 + seed * 3) % 256;
    png.data[i + 2] = (seed * 31) % 256;
    png.data[i + 3] = 255;
  }
  return PNG.sync.write(png);
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const s3Env = () => ({ ...process.env, IMAGENT_S3_ENDPOINT: testS3Endpoint() });

let s3: S3Client;
const tempDirs: string[] = [];

beforeAll(() => {
  s3 = new S3Client({
    endpoint: testS3Endpoint(),
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  s3.destroy();
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freshBucket(): Promise<string> {
  const bucket = `imagent-test-${randomUUID()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'imagent-store-'));
  tempDirs.push(dir);
  return dir;
}

/** Every file under dir, as slash-separated paths, read directly rather than through the store. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

interface Fixture {
  store: BlobStore;
  /** Every object the backing store holds, listed with its own API. */
  objects(): Promise<string[]>;
  /** The URI the store should give the object at key (under the store's prefix). */
  expectedUri(key: string): string;
}

const fixtures: Array<[string, () => Promise<Fixture>]> = [
  [
    's3:// store',
    async () => {
      const bucket = await freshBucket();
      return {
        store: openBlobStore(`s3://${bucket}/runs/one`, { env: s3Env() }),
        objects: async () => {
          const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
          return (page.Contents ?? []).map((object) => object.Key ?? '').sort();
        },
        expectedUri: (key) => `s3://${bucket}/runs/one/${key}`,
      };
    },
  ],
  [
    'file:// store',
    async () => {
      const dir = await freshDir();
      return {
        store: openBlobStore(pathToFileURL(dir).href),
        objects: () => filesUnder(dir),
        expectedUri: (key) => pathToFileURL(path.join(dir, key)).href,
      };
    },
  ],
];

describe.each(fixtures)('%s', (_name, makeFixture) => {
  let fixture: Fixture;
  beforeEach(async () => {
    fixture = await makeFixture();
  });

  test('stores the same image written twice as one object', async () => {
    const png = makePng(16, 16, 1);
    const first = await fixture.store.putImage(png);
    const second = await fixture.store.putImage(png);

    expect(second).toEqual(first);
    const objects = await fixture.objects();
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatch(new RegExp(`images/${first.sha256}\\.png$`));
  });

  test('round-trips an image byte for byte with its size, hash and length in the reference', async () => {
    const png = makePng(37, 21, 2);
    const ref = await fixture.store.putImage(png);

    expect(ref).toEqual({
      uri: fixture.expectedUri(`images/${sha256(png)}.png`),
      sha256: sha256(png),
      width: 37,
      height: 21,
      mediaType: 'image/png',
      bytes: png.length,
    });
    expect((await fixture.store.getImage(ref)).equals(png)).toBe(true);
    expect((await fixture.store.getImage(ref.uri)).equals(png)).toBe(true);
    expect((await fixture.store.getUri(ref.uri)).equals(png)).toBe(true);
  });

  test('throws BlobNotFound with the URI when an image is missing', async () => {
    const uri = fixture.expectedUri(`images/${'0'.repeat(64)}.png`);

    await expect(fixture.store.getImage(uri)).rejects.toThrow(BlobNotFound);
    await expect(fixture.store.getImage(uri)).rejects.toMatchObject({ uri, permanent: true });
    await expect(fixture.store.get('results/none.json')).rejects.toThrow(BlobNotFound);
    expect(await fixture.store.exists(`images/${'0'.repeat(64)}.png`)).toBe(false);
  });

  test('rejects bytes that are not a PNG and writes nothing', async () => {
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');

    await expect(fixture.store.putImage(gif)).rejects.toThrow(InvalidImage);
    await expect(fixture.store.putImage(gif)).rejects.toThrow(/PNG signature/);
    await expect(fixture.store.putImage(makePng(8, 8, 3).subarray(0, 20))).rejects.toThrow(/truncated/);
    expect(await fixture.objects()).toEqual([]);
  });

  test('writes, lists and reads other objects under their keys', async () => {
    const uri = await fixture.store.put('results/batch-1/item-2.json', '{"ok":true}', 'application/json');
    await fixture.store.put('results/batch-1/item-10.json', '{}', 'application/json');
    await fixture.store.put('results/batch-2/item-1.json', '{}', 'application/json');

    expect(uri).toBe(fixture.expectedUri('results/batch-1/item-2.json'));
    expect((await fixture.store.get('results/batch-1/item-2.json')).toString()).toBe('{"ok":true}');
    expect(await fixture.store.exists('results/batch-1/item-2.json')).toBe(true);
    expect(await fixture.store.list('results/batch-1/')).toEqual(['results/batch-1/item-10.json', 'results/batch-1/item-2.json']);
    expect(await fixture.store.list('results/batch-')).toHaveLength(3);
    expect(await fixture.store.list('nothing/')).toEqual([]);
  });

  test('refuses keys that leave the store', async () => {
    await expect(fixture.store.put('../escape.txt', 'x', 'text/plain')).rejects.toThrow(InvalidBlobKey);
    await expect(fixture.store.get('/etc/passwd')).rejects.toThrow(InvalidBlobKey);
    await expect(fixture.store.list('a/../../')).rejects.toThrow(InvalidBlobKey);
  });

  test('reads file:// URIs whatever the store', async () => {
    const file = path.join(await freshDir(), 'input.png');
    const png = makePng(5, 7, 4);
    await writeFile(file, png);

    expect((await fixture.store.getUri(pathToFileURL(file).href)).equals(png)).toBe(true);
    expect((await fixture.store.getUri(file)).equals(png)).toBe(true);
  });
});

describe('s3:// store', () => {
  test('says to create the bucket when it does not exist', async () => {
    const bucket = `imagent-missing-${randomUUID()}`;
    const store = openBlobStore(`s3://${bucket}`, { env: s3Env() });
    const helpful = new RegExp(`bucket "${bucket}" does not exist.*create it, or set IMAGENT_STORE`);

    await expect(store.putImage(makePng(4, 4, 5))).rejects.toThrow(StoreMisconfigured);
    await expect(store.putImage(makePng(4, 4, 5))).rejects.toThrow(helpful);
    await expect(store.put('results/a.json', '{}', 'application/json')).rejects.toThrow(helpful);
    await expect(store.get('results/a.json')).rejects.toThrow(helpful);
    await expect(store.list('results/')).rejects.toThrow(helpful);
  });

  test('keeps objects without a prefix at the top of the bucket', async () => {
    const bucket = await freshBucket();
    const store = openBlobStore(`s3://${bucket}/`, { env: s3Env() });
    const ref = await store.putImage(makePng(3, 3, 6));

    expect(store.uri).toBe(`s3://${bucket}`);
    expect(ref.uri).toBe(`s3://${bucket}/images/${ref.sha256}.png`);
    expect(await store.list('')).toEqual([`images/${ref.sha256}.png`]);
  });
});

describe('file:// store', () => {
  test('opens a plain folder path as the same store as its file:// URI', async () => {
    const dir = await freshDir();
    const ref = await openBlobStore(dir).putImage(makePng(6, 6, 7));

    expect(openBlobStore(dir).uri).toBe(openBlobStore(pathToFileURL(dir).href).uri);
    expect((await openBlobStore(pathToFileURL(dir).href).getImage(ref)).length).toBe(ref.bytes);
  });

  test('detects an image that changed after it was written', async () => {
    const dir = await freshDir();
    const store = openBlobStore(dir);
    const ref = await store.putImage(makePng(6, 6, 8));
    await writeFile(path.join(dir, 'images', `${ref.sha256}.png`), makePng(6, 6, 9));

    await expect(store.getImage(ref)).rejects.toThrow(BlobCorrupted);
  });

  test('cannot read s3:// URIs and says which store to configure', async () => {
    const store = openBlobStore(await freshDir());

    await expect(store.getUri('s3://bucket/images/x.png')).rejects.toThrow(/Point IMAGENT_STORE at the store that holds it/);
  });
});

test('openBlobStore names the forms it accepts for an unknown scheme', () => {
  expect(() => openBlobStore('gs://bucket/prefix')).toThrow(/use s3:\/\/bucket\/prefix, file:\/\/\/absolute\/folder or a folder path/);
});
