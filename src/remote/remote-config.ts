import { err, ok, type Result } from '../core/result.js';
import type { ManifestRemote } from '../manifest/manifest.js';
import { parseRemoteUrl } from '../manifest/remote-url.js';
import { S3_CREDENTIALS_ADVICE, baseUrlProblem } from '../manifest/provider-checks.js';
import type { S3Settings } from './s3-object-store.js';

export interface RemoteSources {
  /** `--remote URL` or `--remote off`. */
  readonly flag?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly manifest?: ManifestRemote | undefined;
}

/**
 * Which remote a run uses, if any: `--remote` over `VIDBUILD_REMOTE` over the
 * manifest's `remote:` (`off` in either of the first two turns it off for
 * the run). The endpoint and region follow the AWS SDK's own variables
 * first, so one CI secret set serves every tool; credentials are left to
 * the SDK's default chain and never pass through here.
 */
export function resolveRemote(sources: RemoteSources): Result<S3Settings | undefined, string> {
  const chosen = sources.flag ?? nonEmpty(sources.env['VIDBUILD_REMOTE']);
  if (chosen === 'off') return ok(undefined);
  const url = chosen ?? sources.manifest?.url;
  if (url === undefined) return ok(undefined);
  const location = parseRemoteUrl(url);
  if (!location.ok) return err(location.error);
  const endpoint = nonEmpty(sources.env['AWS_ENDPOINT_URL_S3']) ?? nonEmpty(sources.env['AWS_ENDPOINT_URL']) ?? sources.manifest?.endpoint;
  if (endpoint !== undefined) {
    const problem = baseUrlProblem(endpoint, S3_CREDENTIALS_ADVICE);
    if (problem !== undefined) return err(`remote endpoint ${problem}`);
  }
  const region = nonEmpty(sources.env['AWS_REGION']) ?? nonEmpty(sources.env['AWS_DEFAULT_REGION']) ?? sources.manifest?.region;
  return ok({
    location: location.value,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
    forcePathStyle: sources.manifest?.pathStyle ?? endpoint !== undefined,
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
