import { S3_CREDENTIALS_ADVICE, apiKeyHeaderProblem, baseUrlProblem, extraHeaderProblem, queryParamProblem, splitBaseUrl } from '../provider-checks.js';
import type { CheckContext } from './context.js';
import { parseRemoteUrl } from '../remote-url.js';

/** `provider.baseURL`, its headers and query, and the sizes `pricing` names. */
export function checkProvider(ctx: CheckContext): void {
  const baseURL = ctx.raw.provider?.baseURL;
  const urlProblem = baseURL === undefined ? undefined : baseUrlProblem(baseURL);
  if (urlProblem !== undefined) ctx.error('bad-base-url', `\`baseURL\` ${urlProblem}`, ctx.valueAt('provider', 'baseURL'));
  checkProviderHeaders(ctx);
  checkRemote(ctx);
  for (const [model, sizes] of Object.entries(ctx.raw.pricing ?? {})) {
    for (const size of Object.keys(sizes)) {
      if (!/^\d{2,5}x\d{2,5}$/.test(size)) ctx.error('bad-size', `price size \`${size}\` for ${model} must be WIDTHxHEIGHT, e.g. 1280x720`, ctx.keyAt('pricing', model, size));
    }
  }
}

/**
 * `provider.apiKeyHeader`, `provider.headers` and `provider.query`: names
 * HTTP accepts, no credential committed in a header or a query parameter, and one value per
 * query parameter (a `?api-version=` in baseURL and another in `query`
 * would leave the reader guessing which is sent).
 */
function checkProviderHeaders(ctx: CheckContext): void {
  const provider = ctx.raw.provider;
  if (provider === undefined) return;
  const header = provider.apiKeyHeader;
  const headerProblem = header === undefined ? undefined : apiKeyHeaderProblem(header);
  if (headerProblem !== undefined) ctx.error('bad-header', `\`apiKeyHeader\` ${headerProblem}`, ctx.valueAt('provider', 'apiKeyHeader'));
  for (const [name, value] of Object.entries(provider.headers ?? {})) {
    const problem = extraHeaderProblem(name, value, header);
    if (problem !== undefined) ctx.error('bad-header', `header \`${name}\` ${problem}`, ctx.keyAt('provider', 'headers', name));
  }
  for (const [name, value] of Object.entries(provider.query ?? {})) {
    const problem = queryParamProblem(name, value);
    if (problem !== undefined) ctx.error('bad-query', `query parameter \`${name}\` ${problem}`, ctx.keyAt('provider', 'query', name));
  }
  if (provider.baseURL !== undefined && provider.query !== undefined && baseUrlProblem(provider.baseURL) === undefined) {
    const inUrl = splitBaseUrl(provider.baseURL).query;
    for (const name of Object.keys(provider.query)) {
      if (Object.hasOwn(inUrl, name)) ctx.error('duplicate-query', `query parameter \`${name}\` is also in \`baseURL\`; give it in one place`, ctx.keyAt('provider', 'query', name));
    }
  }
}

/** `remote:`: a bucket and prefix S3 accepts, and an endpoint without credentials in it. */
function checkRemote(ctx: CheckContext): void {
  const remote = ctx.raw.remote;
  if (remote === undefined) return;
  const url = typeof remote === 'string' ? remote : remote.url;
  const parsed = parseRemoteUrl(url);
  if (!parsed.ok) ctx.error('bad-remote', parsed.error, typeof remote === 'string' ? ctx.valueAt('remote') : ctx.valueAt('remote', 'url'));
  if (typeof remote === 'string' || remote.endpoint === undefined) return;
  const problem = baseUrlProblem(remote.endpoint, S3_CREDENTIALS_ADVICE);
  if (problem !== undefined) ctx.error('bad-remote', `\`endpoint\` ${problem}`, ctx.valueAt('remote', 'endpoint'));
}
