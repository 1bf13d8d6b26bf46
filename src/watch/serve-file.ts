import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Sends one file with a content type sniffed from its first bytes (cache
 * objects have no extension) and HTTP Range support, which browsers need to
 * seek in, and sometimes even to start, a `<video>`.
 *
 * The caller decides *which* file may be served; this module only streams it.
 */
export async function serveFile(req: IncomingMessage, res: ServerResponse, absFile: string): Promise<void> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(absFile, 'r');
  } catch {
    sendText(res, 404, 'not found');
    return;
  }
  let size: number;
  let type: string;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      sendText(res, 404, 'not found');
      return;
    }
    size = stat.size;
    const head = Buffer.alloc(Math.min(16, size));
    await handle.read(head, 0, head.length, 0);
    type = sniffContentType(head);
  } finally {
    await handle.close();
  }

  const range = parseRange(req.headers.range, size);
  const headers: Record<string, string | number> = {
    'content-type': type,
    'accept-ranges': 'bytes',
    'cache-control': 'no-cache',
  };
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` });
    res.end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const status = range === undefined ? 200 : 206;
  if (range !== undefined) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  headers['content-length'] = size === 0 ? 0 : end - start + 1;
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  const stream = fs.createReadStream(absFile, { start, end });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

export type ByteRange = { readonly start: number; readonly end: number };

/**
 * One `bytes=` range (the only kind browsers send for media). Returns
 * undefined when there is no usable Range header (serve the whole file) and
 * 'unsatisfiable' for a range outside the file.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    // Suffix range: the last N bytes.
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** Content type from magic bytes: the formats the Videos API and the emulator produce. */
export function sniffContentType(head: Uint8Array): string {
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (head.length >= 8 && ascii(4, 8) === 'ftyp') return 'video/mp4';
  if (head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return 'video/webm';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.length >= 8 && head[0] === 0x89 && ascii(1, 4) === 'PNG') return 'image/png';
  if (head.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (head.length >= 6 && ascii(0, 4) === 'GIF8') return 'image/gif';
  return 'application/octet-stream';
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
