import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRemoteUrl } from '../../src/manifest/remote-url.js';
import { createS3ObjectStore } from '../../src/remote/s3-object-store.js';
import type { ObjectStore } from '../../src/remote/object-store.js';
import { s3Server, type RunningS3 } from './s3-server.js';

function storeFor(s3: RunningS3, url = 's3://team/proj', credentials?: { id: string; secret: string }): ObjectStore {
  const location = parseRemoteUrl(url);
  if (!location.ok) throw new Error(location.error);
  process.env['AWS_ACCESS_KEY_ID'] = credentials?.id ?? s3.env['AWS_ACCESS_KEY_ID'];
  process.env['AWS_SECRET_ACCESS_KEY'] = credentials?.secret ?? s3.env['AWS_SECRET_ACCESS_KEY'];
  return createS3ObjectStore({ location: location.value, endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
}

describe('remote url', () => {
  it('parses bucket and prefix, refuses the rest with a reason', () => {
    expect(parseRemoteUrl('s3://team/a/b/')).toMatchObject({ ok: true, value: { bucket: 'team', prefix: 'a/b/' } });
    expect(parseRemoteUrl('s3://team')).toMatchObject({ ok: true, value: { bucket: 'team', prefix: '' } });
    expect(parseRemoteUrl('https://team')).toMatchObject({ ok: false });
    expect(parseRemoteUrl('s3://Team/x')).toMatchObject({ ok: false });
    expect(parseRemoteUrl('s3://team/a/../b')).toMatchObject({ ok: false });
  });
});

describe('the S3 object store against a real server on 127.0.0.1', () => {
  it('puts, gets, lists, streams a multipart file and deletes', async () => {
    const s3 = await s3Server();
    const store = storeFor(s3);
    expect(await store.probe()).toEqual({ ok: true, value: undefined });
    expect(await store.getText('index/nothing.json')).toEqual({ ok: true, value: undefined });
    expect(await store.putText('index/a.json', '{"a":1}')).toEqual({ ok: true, value: 'created' });
    expect(await store.getText('index/a.json')).toEqual({ ok: true, value: '{"a":1}' });
    const file = path.join(await fsp.mkdtemp(path.join(os.tmpdir(), 'vidbuild-s3-file-')), 'big.bin');
    const bytes = Buffer.alloc(9 * 1024 * 1024, 7); // over one part: multipart
    await fsp.writeFile(file, bytes);
    expect(await store.putFile('objects/big', file, bytes.length)).toEqual({ ok: true, value: undefined });
    const listed = await store.list('');
    expect(listed.ok && listed.value.map((o) => o.key).sort()).toEqual(['index/a.json', 'objects/big']);
    const streamed = await store.getStream('objects/big');
    if (!streamed.ok || streamed.value === undefined) throw new Error('no stream');
    const chunks: Buffer[] = [];
    for await (const chunk of streamed.value.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect(await store.delete('index/a.json')).toEqual({ ok: true, value: undefined });
    expect(await store.head('index/a.json')).toEqual({ ok: true, value: undefined });
    await fsp.rm(path.dirname(file), { recursive: true, force: true });
  });

  it('names a missing bucket, refused credentials and a stopped server in one line each', async () => {
    const s3 = await s3Server();
    expect(await storeFor(s3, 's3://absent-bucket/x').probe()).toMatchObject({ ok: false, error: { code: 'no-bucket' } });
    const wrong = await storeFor(s3, 's3://team/x', { id: 'WRONG', secret: 'WRONG-SECRET' }).probe();
    expect(wrong).toMatchObject({ ok: false, error: { code: 'credentials' } });
    expect(JSON.stringify(wrong)).not.toContain('WRONG-SECRET');
    const store = storeFor(s3);
    await s3.stop();
    const down = await store.getText('index/a.json');
    expect(down).toMatchObject({ ok: false, error: { code: 'unreachable' } });
    if (!down.ok) expect(down.error.message).not.toContain('\n');
  });
});
