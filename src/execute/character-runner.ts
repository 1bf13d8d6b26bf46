import path from 'node:path';
import type { CharacterName } from '../manifest/manifest.js';
import type { CharacterId } from '../lock/lockfile.js';
import type { CachedCharacter } from '../cache/local-cache.js';
import { isCharacterId } from '../lock/lock-names.js';
import type { CharacterStep } from '../plan/plan.js';
import { sleep } from './rate-gate.js';
import { classifyCallError } from './classify-error.js';
import { readUpload } from './send-job.js';
import { Deferred } from './deferred.js';
import { describeLocalWriteAt, localWriteErrorOf } from '../core/local-write-error.js';
import { RunContext } from './run-context.js';
import { MAX_SUBMIT_ATTEMPTS } from './paid-call.js';
import { CharacterClaims } from './character-claims.js';

/** Characters first: each is reused (same video bytes), created once, or reported failed. */
export class CharacterRunner {
  private readonly claims: CharacterClaims;

  constructor(
    private readonly ctx: RunContext,
    private readonly charReady: ReadonlyMap<CharacterName, Deferred<CharacterId | undefined>>,
  ) {
    this.claims = new CharacterClaims(ctx);
  }

  async runCharacter(step: CharacterStep): Promise<void> {
    const ready = this.charReady.get(step.name) ?? new Deferred<CharacterId | undefined>();
    try {
      switch (step.action) {
        case 'orphan':
          return;
        case 'unchanged': {
          const job = step.locked?.job;
          ready.resolve(job?.state === 'created' ? job.characterId : undefined);
          return;
        }
        case 'fetch':
        case 'create':
        case 'replace':
        case 'resume': {
          // A `fetch` was planned with the id the cache remembered; the others may find one since.
          const reused = step.action === 'fetch' ? await this.takeIfStillThere(step, step.reuses) : await this.reuseCharacter(step);
          if (reused !== undefined) {
            ready.resolve(reused);
            return;
          }
          // Gone from the API since: created again (free), and the videos
          // planned with the old id are not restored (apply.ts), since they
          // would now have to be paid for.
          if (step.action === 'fetch' && !this.ctx.aborted) {
            this.ctx.emit({ type: 'warning', at: this.ctx.at(), message: `character ${step.name}: ${step.reuses.characterId}, created before from this video, is gone from the API (or it could not say); creating it again` });
          }
          if (this.ctx.o.frozen === true) {
            this.ctx.emit({ type: 'character-failed', at: this.ctx.at(), name: step.name, code: 'frozen', message: 'needs creating; --frozen never creates' });
            return;
          }
          const id = await this.ctx.gen(() => this.createCharacter(step));
          ready.resolve(id);
          return;
        }
      }
    } catch (e: unknown) {
      // As for a target: a file system that refuses the lock's write fails
      // this character (its videos are skipped), not the whole run.
      const local = localWriteErrorOf(e);
      if (local === undefined) throw e;
      this.ctx.localWriteFailed = true;
      this.ctx.emit({ type: 'character-failed', at: this.ctx.at(), name: step.name, code: 'write-failed', message: describeLocalWriteAt(local, local.path === undefined ? path.basename(this.ctx.o.lockPath) : path.relative(this.ctx.o.manifest.projectDir, local.path)) });
    } finally {
      ready.resolve(undefined);
    }
  }

  /**
   * A character video changed back to bytes a character was created from
   * before (a reverted commit): take that character's id again instead of
   * creating another, provided the API still has it (a free GET). With the
   * old id, the videos made with it are found in the cache again (their
   * fingerprints are recomputed from the ids), so the revert costs nothing.
   */
  async reuseCharacter(step: CharacterStep): Promise<CharacterId | undefined> {
    const character = this.ctx.o.manifest.characters.get(step.name);
    const fileSha256 = step.fileSha256;
    if (character === undefined || fileSha256 === undefined || this.ctx.aborted) return undefined;
    const known = await this.ctx.cache.characterFor(step.name, fileSha256).catch(() => undefined);
    if (known === undefined) return undefined;
    return this.takeIfStillThere(step, known);
  }

  /** Takes a known character's id, provided the API still has it (a free GET). */
  private async takeIfStillThere(step: CharacterStep, known: CachedCharacter): Promise<CharacterId | undefined> {
    if (this.ctx.aborted) return undefined;
    try {
      await this.ctx.o.client.videos.getCharacter(known.characterId, this.ctx.o.signal === undefined ? {} : { signal: this.ctx.o.signal });
    } catch {
      return undefined; // gone, or the provider cannot say: create it
    }
    const id = await this.takeCharacter(step, { characterId: known.characterId, createdAt: known.createdAt });
    // Planned from the team's remote: looking it up through the run's cache remembers it locally, as a restored entry is.
    if (id !== undefined && step.action === 'fetch' && step.reuses.where === 'remote') {
      await this.ctx.cache.characterFor(step.name, step.fileSha256).catch(() => undefined);
    }
    return id;
  }

  /** An existing character becomes this one (reused from the cache, or made by another runner). */
  private async takeCharacter(step: CharacterStep, known: CachedCharacter): Promise<CharacterId | undefined> {
    const character = this.ctx.o.manifest.characters.get(step.name);
    const fileSha256 = step.fileSha256;
    if (character === undefined || fileSha256 === undefined) return undefined;
    await this.ctx.writer.update((lock) => ({
      ...lock,
      characters: {
        ...lock.characters,
        [step.name]: { fileSha256, video: character.video, job: { state: 'created', characterId: known.characterId, createdAt: known.createdAt } },
      },
    }));
    this.ctx.emit({ type: 'character-created', at: this.ctx.at(), name: step.name, characterId: known.characterId, reused: true });
    return known.characterId;
  }

  /**
   * Characters have no list endpoint, so an intent left by a crash cannot be
   * reconciled the way a video job's can: all we can do is keep the window
   * small, clear the intent whenever the request provably never reached the
   * server (refused by the API, or no connection at all), and say plainly
   * when a re-run may create a second character. See docs/exactly-once.md.
   */
  async createCharacter(step: CharacterStep): Promise<CharacterId | undefined> {
    const character = this.ctx.o.manifest.characters.get(step.name);
    if (character === undefined || step.fileSha256 === undefined || this.ctx.aborted) return undefined;
    const fileSha256 = step.fileSha256;
    // With a remote: one runner of the team creates it, the others take its id.
    const shared = await this.claims.before(step.name, fileSha256);
    switch (shared.kind) {
      case 'interrupted':
        return undefined;
      case 'failed':
        this.ctx.emit({ type: 'character-failed', at: this.ctx.at(), name: step.name, code: 'remote-claim-failed', message: shared.message });
        return undefined;
      case 'adopt': {
        const id = await this.takeCharacter(step, shared.character);
        await this.ctx.cache.rememberCharacter(step.name, fileSha256, shared.character).catch(() => undefined);
        return id;
      }
      case 'create':
        break;
    }
    const held = shared.held;
    const previous = this.ctx.writer.lock.characters[step.name];
    let maybeSent = false;
    if (previous?.job.state === 'intent') {
      maybeSent = true;
      this.ctx.emit({
        type: 'warning',
        at: this.ctx.at(),
        message: `character ${step.name}: a run interrupted at ${previous.job.intentAt} may already have created it; the API cannot list characters, so it may now exist twice (the extra one is unused)`,
      });
    }
    const restorePrevious = async (): Promise<void> => {
      if (maybeSent) return;
      await this.claims.withdraw(held);
      await this.ctx.writer.update((lock) => {
        const characters = { ...lock.characters };
        if (previous === undefined) delete characters[step.name];
        else characters[step.name] = previous;
        return { ...lock, characters };
      });
    };
    await this.ctx.writer.update((lock) => ({
      ...lock,
      characters: { ...lock.characters, [step.name]: { fileSha256, video: character.video, job: { state: 'intent', intentAt: this.ctx.at() } } },
    }));
    let last = '';
    for (let attempt = 0; attempt < MAX_SUBMIT_ATTEMPTS; attempt++) {
      if (this.ctx.aborted) {
        if (!maybeSent) await this.claims.withdraw(held);
        return undefined;
      }
      try {
        const video = await readUpload(this.ctx.o.manifest.projectDir, character.video, fileSha256);
        const res = await this.ctx.o.client.videos.createCharacter({ name: step.name, video }, { maxRetries: 0 });
        const id = res.id;
        if (id === null || !isCharacterId(id)) throw new Error('the API returned no character id');
        const createdAt = new Date(res.created_at * 1000).toISOString();
        await this.ctx.writer.update((lock) => ({
          ...lock,
          characters: { ...lock.characters, [step.name]: { fileSha256, video: character.video, job: { state: 'created', characterId: id, createdAt } } },
        }));
        this.ctx.emit({ type: 'character-created', at: this.ctx.at(), name: step.name, characterId: id });
        await this.claims.created(held, id);
        // Remembered by its video's bytes, so that reverting the video reuses it (and, with a remote, so the team takes the same id).
        await this.ctx.cache.rememberCharacter(step.name, fileSha256, { characterId: id, createdAt }).catch((e: unknown) =>
          this.ctx.emit({ type: 'warning', at: this.ctx.at(), message: `could not remember character ${step.name} in the cache: ${e instanceof Error ? e.message : String(e)}` }),
        );
        await this.claims.settle(held, step.name, fileSha256);
        return id;
      } catch (e: unknown) {
        const f = classifyCallError(e);
        last = f.message;
        switch (f.kind) {
          case 'refused':
            await restorePrevious();
            this.ctx.emit({ type: 'character-failed', at: this.ctx.at(), name: step.name, code: f.code, message: f.message });
            return undefined;
          case 'not-sent':
            await restorePrevious();
            this.ctx.markUnreachable(f);
            this.ctx.emit({ type: 'character-failed', at: this.ctx.at(), name: step.name, code: 'connection-failed', message: `${this.ctx.unreachable ?? f.message}; nothing was sent` });
            return undefined;
          case 'rate-limited':
            await this.ctx.o.rateGate?.wait();
            continue;
          case 'unknown':
            // Resending is the only way forward; unlike a video job, a
            // duplicate character is not billed, but say so.
            maybeSent = true;
            this.ctx.emit({ type: 'warning', at: this.ctx.at(), message: `character ${step.name}: ${f.message}; sending again (if the first request reached the server, the character now exists twice)` });
            await sleep(Math.min(500 * 2 ** attempt, 8_000), this.ctx.o.signal).catch(() => undefined);
            continue;
        }
      }
    }
    this.ctx.emit({ type: 'character-failed', at: this.ctx.at(), name: step.name, code: 'submit-failed', message: last });
    return undefined;
  }
}
