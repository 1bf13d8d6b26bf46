import { createHash } from 'node:crypto';
import { parseJsonObject } from '../core/json-object.js';

/**
 * One runner's claim on a fingerprint in the shared remote, stored at
 * `claims/<fingerprint-hex>/<claimId>.json` (remote-lock.ts has the
 * protocol). It starts without a job id, while its runner is about to make
 * the paid call; the id is written into it the moment the call returns, and
 * from then on the claim is the team's record of which job those inputs
 * made: another runner adopts that job instead of paying for its own.
 */
export interface ClaimRecord {
  readonly v: 1;
  /** Unique per claim attempt (`<runId>-<n>`): the object's name. */
  readonly claimId: string;
  readonly runId: string;
  /** For messages: the machine's name. */
  readonly host: string;
  /** Where `pid` means something: equal only on the same kernel boot and pid namespace (host-identity.ts). */
  readonly hostId: string;
  readonly pid: number;
  /** The target it was claimed for (messages only; the fingerprint is the identity). */
  readonly target: string;
  /** The claimer's clock, when it was about to send the paid call. */
  readonly createdAt: string;
  readonly jobId?: string;
  /** Set when a runner found the job of this (stale) claim by reconciliation and wrote it in. */
  readonly adoptedBy?: string;
}

/** A claim as listed: its object key and what it says. */
export interface ListedClaim {
  readonly key: string;
  readonly claim: ClaimRecord;
}

const HEX = /^[0-9a-f]{64}$/;

function hexOf(fingerprint: string): string {
  const hex = fingerprint.startsWith('sha256:') ? fingerprint.slice('sha256:'.length) : fingerprint;
  // A fingerprint is ours, never user text; anything else is a bug, not a key to write.
  if (!HEX.test(hex)) throw new Error(`not a fingerprint: ${fingerprint}`);
  return hex;
}

export function claimsPrefix(fingerprint: string): string {
  return `claims/${hexOf(fingerprint)}/`;
}

export function claimKey(fingerprint: string, claimId: string): string {
  return `${claimsPrefix(fingerprint)}${claimId}.json`;
}

/**
 * What a character's claim is keyed by: its name and its video's bytes, as
 * the character record in the remote is (`remoteCharacterKey`). Hashed into
 * a fingerprint's shape so claims of characters and of videos share one
 * layout and one protocol, and can never collide (a video's fingerprint
 * hashes a JSON object, this a line that is not one).
 */
export function characterClaimFingerprint(name: string, fileSha256: string): string {
  return `sha256:${createHash('sha256').update(`character\n${name}\n${fileSha256}`).digest('hex')}`;
}

/** Where the shared cache records that a fingerprint's assets are in the remote. */
export function indexKey(fingerprint: string): string {
  return `index/${hexOf(fingerprint)}.json`;
}

/** "host pid N" for messages. */
export function holderOf(claim: ClaimRecord): string {
  return `${claim.host} pid ${claim.pid}`;
}

export function serializeClaim(claim: ClaimRecord): string {
  return `${JSON.stringify(claim)}\n`;
}

/**
 * A claim another runner wrote, checked field by field: the bucket is
 * shared, so its content is not trusted to have our shape. Undefined when it
 * is not a claim (it is then ignored for adoption but still counts as held:
 * see remote-lock.ts).
 */
export function parseClaim(text: string): ClaimRecord | undefined {
  const raw = parseJsonObject(text);
  if (raw === undefined) return undefined;
  const r = raw as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof r[k] === 'string' && (r[k] as string).length <= 500 ? (r[k] as string) : undefined);
  const claimId = str('claimId');
  const runId = str('runId');
  const host = str('host');
  const hostId = str('hostId');
  const target = str('target');
  const createdAt = str('createdAt');
  const pid = r['pid'];
  if (r['v'] !== 1 || claimId === undefined || runId === undefined || host === undefined || hostId === undefined || target === undefined) return undefined;
  if (createdAt === undefined || Number.isNaN(Date.parse(createdAt)) || typeof pid !== 'number' || !Number.isInteger(pid)) return undefined;
  const jobId = str('jobId');
  const adoptedBy = str('adoptedBy');
  return { v: 1, claimId, runId, host, hostId, pid, target, createdAt, ...(jobId === undefined ? {} : { jobId }), ...(adoptedBy === undefined ? {} : { adoptedBy }) };
}
