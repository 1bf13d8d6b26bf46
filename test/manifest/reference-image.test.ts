import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { loadManifest } from '../../src/manifest/load-manifest.js';
import { probeReferenceImage } from '../../src/manifest/reference-image.js';
import { solidPng } from '../emulator/media.js';
import { ffmpegImage, jpegHeader } from '../fixtures/images.js';

/**
 * `input_reference` images are checked at validate/plan time: the API takes
 * only JPEG, PNG and WebP of exactly the video's size, and says so only after
 * the run started. The header reader is held to real files made by ffmpeg and
 * to hand-built headers for what ffmpeg does not write.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidbuild-ref-image-'));
  ffmpegImage(path.join(dir, 'land.png'), 1280, 720);
  ffmpegImage(path.join(dir, 'land.jpg'), 1280, 720);
  ffmpegImage(path.join(dir, 'lossy.webp'), 1280, 720, 'lossy');
  ffmpegImage(path.join(dir, 'lossless.webp'), 1280, 720, 'lossless');
  ffmpegImage(path.join(dir, 'alpha.webp'), 1280, 720, 'alpha');
  ffmpegImage(path.join(dir, 'portrait.jpg'), 720, 1280);
  ffmpegImage(path.join(dir, 'still.gif'), 1280, 720);
  ffmpegImage(path.join(dir, 'still.bmp'), 64, 36);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('probeReferenceImage', () => {
  it.each([
    ['land.png', 'PNG', 1280, 720],
    ['land.jpg', 'JPEG', 1280, 720],
    ['lossy.webp', 'WebP', 1280, 720],
    ['lossless.webp', 'WebP', 1280, 720],
    ['alpha.webp', 'WebP', 1280, 720],
    ['portrait.jpg', 'JPEG', 720, 1280],
  ])('reads %s made by ffmpeg', async (file, format, width, height) => {
    expect(probeReferenceImage(path.join(dir, file))).toEqual({ kind: 'image', format, width, height });
  });

  it('walks a JPEG past large metadata blocks and fill bytes to a progressive frame header', async () => {
    const file = path.join(dir, 'camera.jpg');
    // 300 KB of EXIF/ICC-like blocks before the frame header, as cameras write.
    await writeFile(file, Buffer.concat([jpegHeader(720, 1280, { progressive: true, metadataBytes: 300_000, fill: true }), Buffer.alloc(1000)]));
    expect(probeReferenceImage(file)).toEqual({ kind: 'image', format: 'JPEG', width: 720, height: 1280 });
  });

  it('names other files and reports damaged headers', async () => {
    const at = (f: string) => path.join(dir, f);
    await writeFile(at('empty.png'), '');
    await writeFile(at('text.png'), 'png');
    await writeFile(at('cut.png'), solidPng(8, 8).subarray(0, 20));
    await writeFile(at('scan-first.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2, 1, 2, 3]));
    await writeFile(at('clip.mp4'), Buffer.from('\0\0\0\x18ftypisom\0\0\0\0', 'latin1'));
    await writeFile(at('photo.heic'), Buffer.from('\0\0\0\x18ftypheic\0\0\0\0', 'latin1'));
    expect(probeReferenceImage(at('still.gif'))).toEqual({ kind: 'other', what: 'a GIF image' });
    expect(probeReferenceImage(at('still.bmp'))).toEqual({ kind: 'other', what: 'a BMP image' });
    expect(probeReferenceImage(at('empty.png'))).toEqual({ kind: 'other', what: 'an empty file' });
    expect(probeReferenceImage(at('text.png'))).toEqual({ kind: 'other', what: undefined });
    expect(probeReferenceImage(at('clip.mp4'))).toEqual({ kind: 'other', what: 'a video' });
    expect(probeReferenceImage(at('photo.heic'))).toEqual({ kind: 'other', what: 'a HEIC image' });
    expect(probeReferenceImage(at('cut.png'))).toEqual({ kind: 'damaged', format: 'PNG' });
    expect(probeReferenceImage(at('scan-first.jpg'))).toEqual({ kind: 'damaged', format: 'JPEG' });
  });
});

describe('input_reference checks in loadManifest', () => {
  async function messages(yaml: string): Promise<{ errors: string[]; warnings: string[] }> {
    await writeFile(path.join(dir, 'videos.yaml'), yaml);
    const loaded = await loadManifest('videos.yaml', { cwd: dir });
    if (!loaded.ok) return { errors: loaded.error.map(formatDiagnostic), warnings: [] };
    return { errors: [], warnings: loaded.value.warnings.map(formatDiagnostic) };
  }

  it('accepts a JPEG, PNG or WebP of the video size', async () => {
    const yaml = [
      'version: 1',
      'defaults: { size: 1280x720 }',
      'videos:',
      '  a: { prompt: x, input_reference: land.png }',
      '  b: { prompt: x, input_reference: land.jpg }',
      '  c: { prompt: x, input_reference: alpha.webp }',
      '  d: { prompt: x, input_reference: portrait.jpg, size: 720x1280 }',
      '',
    ].join('\n');
    expect(await messages(yaml)).toEqual({ errors: [], warnings: [] });
  });

  it('refuses another size, another type and a damaged header, each at its value; one probe serves every use', async () => {
    const yaml = [
      'version: 1',
      'defaults: { size: 720x1280 }',
      'videos:',
      '  a:',
      '    prompt: x',
      '    input_reference: land.png',
      '  b: { prompt: x, input_reference: land.png, size: 1280x720 }',
      '  c: { prompt: x, input_reference: still.gif }',
      '  d: { prompt: x, input_reference: text.png }',
      '  e: { prompt: x, input_reference: cut.png }',
      '  f: { prompt: x, model: sora-2-pro, size: 1792x1024, input_reference: lossless.webp }',
      '',
    ].join('\n');
    expect((await messages(yaml)).errors).toEqual([
      "videos.yaml:6:22: input_reference land.png is 1280x720 but the video's size is 720x1280 (the API refuses a reference of another size)",
      'videos.yaml:8:36: input_reference still.gif is a GIF image, not a JPEG, PNG or WebP image (the API takes only those)',
      'videos.yaml:9:36: input_reference text.png is not a JPEG, PNG or WebP image (the API takes only those)',
      'videos.yaml:10:36: input_reference cut.png starts like a PNG image but its size cannot be read (damaged or cut short)',
      "videos.yaml:11:72: input_reference lossless.webp is 1280x720 but the video's size is 1792x1024 (the API refuses a reference of another size)",
    ]);
  });

  it('warns when the file name does not say the image type (the upload is typed by its name)', async () => {
    await copyFile(path.join(dir, 'land.png'), path.join(dir, 'really-png.jpg'));
    await writeFile(path.join(dir, 'noext'), solidPng(16, 16));
    const yaml = 'version: 1\ndefaults: { size: 1280x720 }\nvideos:\n  a: { prompt: x, input_reference: really-png.jpg }\n  b: { prompt: x, input_reference: noext, size: 16x16 }\n';
    // 16x16 is no size a model takes, so give the capability to the test manifest through the provider.
    const widened = yaml.replace('videos:', 'provider:\n  capabilities:\n    models:\n      sora-2: { sizes: [16x16] }\nvideos:');
    expect(await messages(widened)).toEqual({
      errors: [],
      warnings: [
        "videos.yaml:8:36: warning: input_reference really-png.jpg is a PNG image; name it .png (the upload's type is taken from the file name, and the API may refuse a mismatch)",
        "videos.yaml:9:36: warning: input_reference noext is a PNG image; name it .png (the upload's type is taken from the file name, and the API may refuse a mismatch)",
      ],
    });
  });
});
