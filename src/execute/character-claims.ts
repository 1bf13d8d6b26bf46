import { APIError } from 'openai';
import type { CharacterName } from '../manifest/manifest.js';
import type { CharacterId, Sha256 } from '../lock/lockfile.js';
import { isCharacterId } from '../lock/lock-names.js';
import type { CachedCharacter } from '../cache/local-cache.js';
import { characterClaimFingerprint, holderOf, type ListedClaim } from '../remote/claim-record.js';
import { remoteCharacterKey } from '../remote/remote-cache.js';
import { RemoteLock } from '../remote/remote-lock.js';
import { CLOCK_SLACK_MS, INTENT_WINDOW_MS } from './reconcile.js';
import type { RunContext } from './run-context.js';

/** What the character runner does next, once the shared lock has been asked. */
export type BeforeCharacter =
  /** Ours to create; `held` is the claim to record its id in (absent without a remote). */
  | { readonly kind: 'create'; readonly held: ListedClaim | undefined }
  /** Another runner created it from the same bytes: take its id. */
  | { readonly kind: 'adopt'; readonly character: CachedCharacter; readonly holder: string }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'interrupted' };

/** Claims that lost their race to a runner that is gone, then to the next one…: bounded. */
const MAX_ROUNDS = 20;

/**
 * The shared lock for characters. A character costs nothing, but its
 * `char_…` id is part of the fingerprint of every video made with it: two
 * runners that each create their own would each pay for those videos, and
 * neither's cache entries would serve the other. So, as for a paid job, the
 * character is claimed in the remote (name + video bytes) before it is
 * created, and a runner that finds another's claim waits for its id and
 * takes it. The character record (`characters/…` in the remote) is the
 * done record: once it is there, the claim goes.
 *
 * A claim without an id whose runner is gone cannot be reconciled as a
 * video's can (the API lists no characters): it is taken over, and the
 * worst case is an unused second character, which is not billed.
 */
export class CharacterClaims {
  private readonly lock: RemoteLock | undefined;

  constructor(private readonly ctx: RunContext) {
    this.lock = ctx.o.remote === undefined ? undefined : new RemoteLock(ctx.o.remote, { windowMs: INTENT_WINDOW_MS + CLOCK_SLACK_MS });
  }

  async before(name: CharacterName, fileSha256: Sha256): Promise<BeforeCharacter> {
    const lock = this.lock;
    if (lock === undefined) return { kind: 'create', held: undefined };
    const fingerprint = characterClaimFingerprint(name, fileSha256);
    const doneKey = remoteCharacterKey(name, fileSha256);
    const where = lock.store.url;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const out = await lock.claim(fingerprint, `character ${name}`, { signal: this.ctx.o.signal, doneKey });
      switch (out.kind) {
        case 'won':
          return { kind: 'create', held: out.held };
        case 'interrupted':
          return { kind: 'interrupted' };
        case 'error':
          return { kind: 'failed', message: `could not claim character ${name} in ${where}: ${out.error.message}; nothing was created` };
        case 'contended':
          continue;
        case 'done-elsewhere': {
          const adopted = out.jobId === undefined ? undefined : await this.existing(out.jobId);
          if (adopted === 'interrupted') return { kind: 'interrupted' };
          if (adopted !== undefined) return { kind: 'adopt', character: adopted, holder: 'the shared cache' };
          // A record naming a character the API no longer has protects nothing: it goes, and the next round claims.
          const removed = await lock.store.delete(doneKey);
          if (!removed.ok) return { kind: 'failed', message: `could not replace the record of a deleted character ${name} in ${where}: ${removed.error.message}` };
          continue;
        }
        case 'held': {
          let other = out.other;
          if (other.claim.jobId === undefined) {
            const waited = await lock.waitForJob(other, this.ctx.o.signal);
            if (waited.kind === 'interrupted') return { kind: 'interrupted' };
            if (waited.kind === 'error') return { kind: 'failed', message: `could not follow the claim of ${holderOf(other.claim)} on character ${name} in ${where}: ${waited.error.message}` };
            if (waited.kind === 'released') continue;
            if (waited.kind === 'stale') {
              await lock.takeOver(waited.other);
              continue;
            }
            other = { key: other.key, claim: waited.claim };
          }
          const adopted = other.claim.jobId === undefined ? undefined : await this.existing(other.claim.jobId);
          if (adopted === 'interrupted') return { kind: 'interrupted' };
          if (adopted !== undefined) return { kind: 'adopt', character: adopted, holder: holderOf(other.claim) };
          await lock.takeOver(other);
          continue;
        }
      }
    }
    return { kind: 'failed', message: `could not claim character ${name} in ${where}: other runners kept claiming it` };
  }

  /** The character was created: its id goes into the claim at once, then (`settle`) the record replaces the claim. */
  async created(held: ListedClaim | undefined, characterId: CharacterId): Promise<void> {
    if (held === undefined || this.lock === undefined) return;
    const recorded = await this.lock.recordJob(held, characterId);
    if (!recorded.ok) this.ctx.emit({ type: 'warning', at: this.ctx.at(), message: `character ${characterId} was created, but could not be recorded in ${this.lock.store.url} (${recorded.error.message}); another runner may create its own` });
  }

  /** After the character record was pushed: the claim goes once the record is there (kept otherwise, as the only record). */
  async settle(held: ListedClaim | undefined, name: CharacterName, fileSha256: Sha256): Promise<void> {
    if (held === undefined || this.lock === undefined) return;
    await this.lock.settle(held, characterClaimFingerprint(name, fileSha256), remoteCharacterKey(name, fileSha256));
  }

  /** Nothing was created (refused, not sent): let the others claim. */
  async withdraw(held: ListedClaim | undefined): Promise<void> {
    if (held === undefined || this.lock === undefined) return;
    await this.lock.withdraw(held);
  }

  /** The character another runner made, if the API still has it (a free GET). */
  private async existing(id: string): Promise<CachedCharacter | 'interrupted' | undefined> {
    if (!isCharacterId(id)) return undefined;
    try {
      const got = await this.ctx.o.client.videos.getCharacter(id, this.ctx.o.signal === undefined ? {} : { signal: this.ctx.o.signal });
      return { characterId: id, createdAt: new Date(got.created_at * 1000).toISOString() };
    } catch (e: unknown) {
      if (this.ctx.aborted) return 'interrupted';
      if (e instanceof APIError && e.status === 404) return undefined;
      // The provider cannot say: taking the id is the cheaper mistake (a video made with a gone character fails, and says so).
      return { characterId: id, createdAt: new Date().toISOString() };
    }
  }
}
