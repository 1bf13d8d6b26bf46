import { S3_CREDENTIALS_ADVICE, apiKeyHeaderProblem, baseUrlProblem, extraHeaderProblem, queryParamProblem, splitBaseUrl } from '../provider-checks.js';
import type { SourceLocation } from '../../core/diagnostic.js';
import type { CheckContext } from './context.js';
import { parseRemoteUrl } from '../remote-url.js';

/** `provider.baseURL`, its headers and query, its capability limits, and the sizes `pricing` names. */
export function checkProvider(ctx: CheckContext): void {
  const baseURL = ctx.raw.provider?.baseURL;
  const urlProblem = baseURL === undefined ? undefined : baseUrlProblem(baseURL);
  if (urlProblem !== undefined) ctx.error('bad-base-url', `\`baseURL\` ${urlProblem}`, ctx.valueAt('provider', 'baseURL'));
  checkProviderHeaders(ctx);
  checkCapabilityLimits(ctx);
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

/**
 * `provider.capabilities` widens what the API accepts and never narrows it
 * (the table in data/capabilities.json is what the API documents, and
 * `widenCapabilities` keeps the wider of the two), so a limit that would
 * narrow it is refused rather than silently not applied; so is a shortest
 * extension longer than the longest. `ctx.caps` is already widened: a
 * written limit narrower than it is one the table overrode.
 */
function checkCapabilityLimits(ctx: CheckContext): void {
  const written = ctx.raw.provider?.capabilities;
  if (written === undefined) return;
  const ext = written.extension ?? {};
  const limits = ctx.caps.extension;
  const narrows = (field: string, what: (n: number) => string, got: number | undefined, limit: number, kind: 'max' | 'min', at: SourceLocation): void => {
    if (got === undefined || (kind === 'max' ? got >= limit : got <= limit)) return;
    ctx.error(
      'capabilities-narrow',
      `\`${field}\` ${got} would narrow the built-in ${what(limit)}: \`provider.capabilities\` only widens what the API accepts (use ${limit} or ${kind === 'max' ? 'more' : 'less'}, or leave it out)`,
      at,
    );
  };
  const extAt = (field: string): SourceLocation => ctx.valueAt('provider', 'capabilities', 'extension', field);
  const { minSecondsEach: min, maxSecondsEach: max } = ext;
  if (min !== undefined && max !== undefined && min > max) {
    ctx.error('capabilities-range', `\`minSecondsEach\` (${min}) is more than \`maxSecondsEach\` (${max}): the shortest extension cannot be longer than the longest`, extAt('minSecondsEach'));
  } else {
    narrows('minSecondsEach', (n) => `shortest extension of ${n} s`, min, limits.minSecondsEach, 'min', extAt('minSecondsEach'));
  }
  narrows('maxSecondsEach', (n) => `longest extension of ${n} s`, max, limits.maxSecondsEach, 'max', extAt('maxSecondsEach'));
  narrows('maxCount', (n) => `limit of ${n} extensions per chain`, ext.maxCount, limits.maxCount, 'max', extAt('maxCount'));
  narrows('maxTotalSeconds', (n) => `limit of ${n} s per extended video`, ext.maxTotalSeconds, limits.maxTotalSeconds, 'max', extAt('maxTotalSeconds'));
  const chars = written.maxCharactersPerVideo;
  narrows('maxCharactersPerVideo', (n) => `limit of ${n} characters per video`, chars, ctx.caps.maxCharactersPerVideo, 'max', ctx.valueAt('provider', 'capabilities', 'maxCharactersPerVideo'));
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
