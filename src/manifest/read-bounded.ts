import { constants, existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { err, ok, type Result } from '../core/result.js';
import { errorDiagnostic, type Diagnostic } from '../core/diagnostic.js';

/**
 * Largest manifest we read. A 10,000-target manifest is about 1.5 MiB; 8 MiB
 * leaves room while keeping a hostile file from costing seconds of parsing.
 */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

/** `-f site` names a folder: point at the manifest inside it when there is one. */
function isDirectory(absPath: string, displayFile: string): Diagnostic {
  const inside = ['videos.yaml', 'videos.yml'].find((name) => existsSync(path.join(absPath, name)));
  const hint = inside === undefined ? '' : ` (did you mean -f ${shellWord(path.join(displayFile, inside))}?)`;
  return errorDiagnostic('manifest-unreadable', `${displayFile}: is a directory, not a manifest${hint}`);
}

/** A path as it must be typed in a shell: quoted when it has spaces or other special characters. */
function shellWord(p: string): string {
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replaceAll("'", "'\\''")}'`;
}

function at(file: string, line: number, col: number) {
  return { file, line, col };
}

/**
 * Reads a text file with a hard size bound and refuses what is not a YAML
 * text: empty files, binary (NUL bytes) and invalid UTF-8. Strips a UTF-8 BOM.
 * Never reads more than `maxBytes + 1` bytes whatever the file's stat says.
 */
export async function readBoundedText(
  absPath: string,
  displayFile: string,
  maxBytes = MAX_MANIFEST_BYTES,
): Promise<Result<string, Diagnostic>> {
  let handle;
  try {
    // Non-blocking, so a FIFO (or a tty device) opens at once and is refused
    // below instead of waiting forever for a writer.
    handle = await open(absPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e: unknown) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : '';
    if (code === 'ENOENT') {
      return err(errorDiagnostic('manifest-missing', `${displayFile}: no such file (run \`vidbuild init\` to create one)`));
    }
    if (code === 'EISDIR') return err(isDirectory(absPath, displayFile));
    return err(errorDiagnostic('manifest-unreadable', `${displayFile}: cannot read (${code || String(e)})`));
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) return err(isDirectory(absPath, displayFile));
    if (!stat.isFile()) return err(errorDiagnostic('manifest-unreadable', `${displayFile}: is not a regular file (a FIFO, socket or device); a manifest must be a file`));
    if (stat.size > maxBytes) return err(tooLarge(displayFile, maxBytes));
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, Math.max(stat.size, 0) + 1));
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    // The file may have grown since stat (or be a pipe); the bound is on what we read.
    if (length > maxBytes) return err(tooLarge(displayFile, maxBytes));
    return decodeManifestText(buffer.subarray(0, length), displayFile);
  } finally {
    await handle.close();
  }
}

function tooLarge(displayFile: string, maxBytes: number): Diagnostic {
  return errorDiagnostic(
    'manifest-too-large',
    `${displayFile}: file is larger than ${maxBytes / (1024 * 1024)} MiB; a manifest should be a small text file`,
  );
}

/** Position (1-based) of byte `offset` in `bytes`, counting lines by `\n`. */
function positionOf(bytes: Uint8Array, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** Decodes bytes as a manifest's text, refusing empty, binary and non-UTF-8 input. */
export function decodeManifestText(bytes: Uint8Array, displayFile: string): Result<string, Diagnostic> {
  // Editors on Windows save "Unicode" as UTF-16 with a byte-order mark: say so rather than "binary".
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return err(errorDiagnostic('manifest-encoding', 'file is UTF-16 text; save it as UTF-8', at(displayFile, 1, 1)));
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    const p = positionOf(bytes, nul);
    return err(
      errorDiagnostic('manifest-binary', 'file contains a NUL byte; a manifest must be UTF-8 text, not binary', at(displayFile, p.line, p.col)),
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const p = positionOf(bytes, bad);
    return err(errorDiagnostic('manifest-encoding', 'file is not valid UTF-8 text', at(displayFile, p.line, p.col)));
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // A lone CR is a line break in YAML, but the parser reads it as part of the
  // line (old Mac line ends). Same length, so every offset stays where it was.
  if (text.includes('\r')) text = text.replace(/\r(?!\n)/g, '\n');
  if (text.trim() === '') {
    return err(errorDiagnostic('manifest-empty', `${displayFile}: file is empty; it needs at least \`version: 1\` and \`videos:\``));
  }
  return ok(text);
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return Math.max(0, bytes.length - 1);
}
