import { CREDENTIAL_PARAM, redactUrl } from './provider-checks.js';

/**
 * Checks of an `input_reference: { image_url }` the schema's pattern cannot
 * make. The URL is committed in the manifest, printed by `plan`, and fetched
 * by the provider, never by vidbuild. So it must be https: over plain http
 * the image travels unencrypted and can be swapped on the way, changing the
 * video without changing its fingerprint. The one exception is a loopback
 * host (localhost, 127.0.0.0/8, [::1]): only a provider on this same machine
 * can fetch that, and nothing crosses a network. It carries no credential (a
 * user name or password, or a signature or token in its query, as a
 * presigned URL does): the manifest is shared, and a signed URL expires.
 */

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** Query parameters of presigned object-store URLs (S3, GCS) besides the generic credential names. */
const SIGNED_URL_PARAM = /^x-(?:amz|goog)-(?:signature|credential|security-token)$/i;

/** Why this `image_url` cannot be used (a sentence fragment after "`input_reference.image_url` "), or undefined. */
export function imageUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a valid URL (got ${JSON.stringify(redactUrl(value).slice(0, 80))}; expected e.g. https://cdn.example.com/ref.png)`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'must not contain a user name or password: the manifest is committed; use a URL anyone with the link may read, or a local file';
  }
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname)) {
    return `must use https (got http://${url.hostname}); plain http is allowed only for a loopback host (localhost, 127.0.0.1, [::1])`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be an https URL (got ${url.protocol})`;
  for (const name of url.searchParams.keys()) {
    if (CREDENTIAL_PARAM.test(name) || SIGNED_URL_PARAM.test(name)) {
      return `must not carry a credential in its query (\`${name}\`): the manifest is committed, and a signed URL expires; use a public URL, an uploaded file's \`file_id\`, or a local file`;
    }
  }
  return undefined;
}
