import { scrubSecret } from './api-key.js';

/**
 * The one door through which a provider's words enter vidbuild. Every
 * response the SDK reads as text (JSON bodies, error bodies) has the API key
 * replaced by `***` here, before the SDK parses it: a provider that echoes
 * the Authorization header into `error.message`, a job's prompt or any
 * other field cannot get the key into the lockfile, NDJSON, logs, `status`
 * or the preview page, because nothing downstream ever sees it. Media
 * downloads (video, image, octet-stream) pass through untouched and
 * streaming; they are checked by content, not read as text.
 */
export function scrubbingFetch(secret: string | undefined, inner: typeof fetch = fetch): typeof fetch {
  if (secret === undefined || secret.length < 4) return inner;
  return async (input, init) => {
    const res = await inner(input, init);
    if (!readAsText(res.headers.get('content-type'))) return res;
    const text = await res.text();
    const clean = scrubSecret(text, secret);
    if (clean === text) return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
    const headers = new Headers(res.headers);
    // The body changed length (and fetch already decoded it).
    headers.delete('content-length');
    headers.delete('content-encoding');
    return new Response(clean, { status: res.status, statusText: res.statusText, headers });
  };
}

/** Media is streamed as bytes; everything else (JSON, text, HTML error pages, no type at all) is words. */
function readAsText(contentType: string | null): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return !(type.startsWith('video/') || type.startsWith('image/') || type.startsWith('audio/') || type === 'application/octet-stream' || type === 'binary/octet-stream');
}
