import fs from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { Outcome, Schedule } from './lifecycle.js';
import type { RenderSpec } from './render-spec.js';
import { claimStateDir, type StateClaim } from './state-claim.js';
import { LinkFreeTree, LinkInTreeError } from '../core/link-free-tree.js';

/**
 * The emulator's durable state: one JSON file in the state directory,
 * rewritten atomically after every change and before the response goes out,
 * so a job id a client has seen survives a crash or restart. Uploaded files
 * sit next to it under `uploads/<sha256>`. Nothing in the directory may be a
 * symlink (core/link-free-tree.ts): the emulator made all of it.
 */

export type JobKind = 'create' | 'remix' | 'edit' | 'extend';

export interface JobRecord {
  readonly id: string;
  /** Creation order; ties in `created_at` (seconds) are broken by it. */
  readonly seq: number;
  readonly kind: JobKind;
  readonly model: string;
  readonly size: string;
  /** Total seconds of the result (for an extension: source + new). */
  readonly seconds: number;
  readonly prompt: string;
  readonly remixedFrom: string | null;
  /** Extensions in this video's chain so far (0 for a fresh clip). */
  readonly extensionCount: number;
  readonly schedule: Schedule;
  readonly outcome: Outcome;
  readonly assetTtlSeconds: number;
  readonly render: RenderSpec;
  /** Frame rate of its media, fixed at creation (absent in older state: the emulator's current). */
  readonly fps?: number;
  readonly characters: readonly string[];
  readonly deletedAtMs: number | null;
}

export interface CharacterRecord {
  readonly id: string;
  readonly name: string;
  readonly createdAtMs: number;
  readonly videoSha256: string;
}

interface StateFile {
  readonly version: 1;
  readonly nextSeq: number;
  readonly jobs: readonly JobRecord[];
  readonly characters: readonly CharacterRecord[];
}

function isStateFile(v: unknown): v is StateFile {
  return (
    typeof v === 'object' &&
    v !== null &&
    'version' in v &&
    v.version === 1 &&
    'nextSeq' in v &&
    typeof v.nextSeq === 'number' &&
    'jobs' in v &&
    Array.isArray(v.jobs) &&
    'characters' in v &&
    Array.isArray(v.characters)
  );
}

/**
 * Why the state directory could not be made, when a file sits where it or a
 * parent should be (`--dir notes.txt`): mkdir's own ENOTDIR names
 * `…/uploads`, which the user never typed.
 */
async function fileInTheWay(dir: string): Promise<Error | null> {
  for (let p = dir; ; p = path.dirname(p)) {
    const stat = await fs.stat(p).catch(() => null);
    if (stat !== null) {
      if (stat.isDirectory()) return null;
      return new Error(p === dir ? `state directory ${dir} is a file, not a directory` : `state directory ${dir}: ${p} is a file, not a directory`);
    }
    if (path.dirname(p) === p) return null;
  }
}

export class StateStore {
  readonly dir: string;
  readonly uploadsDir: string;
  readonly jobs = new Map<string, JobRecord>();
  readonly characters = new Map<string, CharacterRecord>();
  #nextSeq = 1;
  #writing: Promise<void> = Promise.resolve();
  /** The write queued behind `#writing` that has not taken its snapshot yet. */
  #pending: Promise<void> | undefined;
  #claim: StateClaim | undefined;

  private constructor(dir: string) {
    this.dir = dir;
    this.uploadsDir = path.join(dir, 'uploads');
  }

  /**
   * Opens (and claims: see state-claim.ts) the state directory; `close()`
   * gives it back. `projectDir`: the project it is in (`--backend emulator`),
   * for messages and to judge a link against.
   */
  static async open(dir: string, projectDir?: string): Promise<StateStore> {
    const store = new StateStore(path.resolve(dir));
    const tree = new LinkFreeTree(store.dir, projectDir);
    await tree.folder(store.uploadsDir, true).catch(async (e: unknown) => {
      throw e instanceof LinkInTreeError ? e : ((await fileInTheWay(store.dir)) ?? e);
    });
    // Both are read and written where a link would lead (write-file-atomic, the claim's readFile).
    await tree.fileStat(store.#file());
    await tree.fileStat(path.join(store.dir, 'emulator.pid'));
    store.#claim = await claimStateDir(store.dir);
    try {
      await store.#load();
    } catch (e: unknown) {
      await store.#claim.release();
      throw e;
    }
    return store;
  }

  async #load(): Promise<void> {
    let text: string | null = null;
    try {
      text = await fs.readFile(this.#file(), 'utf8');
    } catch (e: unknown) {
      if (!(e instanceof Error && 'code' in e && e.code === 'ENOENT')) throw e;
    }
    if (text === null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e: unknown) {
      throw new Error(`${this.#file()}: not valid JSON (${e instanceof Error ? e.message : String(e)}); move it aside to start with an empty emulator`);
    }
    if (!isStateFile(parsed)) throw new Error(`${this.#file()}: not an emulator state file (version 1)`);
    this.#nextSeq = parsed.nextSeq;
    for (const j of parsed.jobs) this.jobs.set(j.id, j);
    for (const c of parsed.characters) this.characters.set(c.id, c);
  }

  /** Notes where the emulator that holds this directory listens (for the message another one gets). */
  async announce(baseURL: string): Promise<void> {
    await this.#claim?.setBaseURL(baseURL);
  }

  /** Writes what is pending and releases the directory for another emulator. */
  async close(): Promise<void> {
    await this.flush();
    await this.#claim?.release();
  }

  #file(): string {
    return path.join(this.dir, 'state.json');
  }

  takeSeq(): number {
    return this.#nextSeq++;
  }

  /**
   * Persists the current state. Writes are serialized; a call made while a
   * write is waiting to start joins that write (group commit): it takes its
   * snapshot when it starts, so it carries this caller's change too. Twenty
   * creates arriving together cost two rewrites of the file, not twenty,
   * and every one of them is still on disk before its response goes out.
   */
  save(): Promise<void> {
    if (this.#pending !== undefined) return this.#pending;
    const next = this.#writing.then(() => {
      // From here on, a change needs a write of its own.
      this.#pending = undefined;
      const state: StateFile = {
        version: 1,
        nextSeq: this.#nextSeq,
        jobs: [...this.jobs.values()],
        characters: [...this.characters.values()],
      };
      return writeFileAtomic(this.#file(), `${JSON.stringify(state)}\n`);
    });
    this.#pending = next;
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async flush(): Promise<void> {
    await this.#writing;
  }
}
