import fs from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { Outcome, Schedule } from './lifecycle.js';
import type { RenderSpec } from './render-spec.js';

/**
 * The emulator's durable state: one JSON file in the state directory,
 * rewritten atomically after every change and before the response goes out,
 * so a job id a client has seen survives a crash or restart. Uploaded files
 * sit next to it under `uploads/<sha256>`.
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

export class StateStore {
  readonly dir: string;
  readonly uploadsDir: string;
  readonly jobs = new Map<string, JobRecord>();
  readonly characters = new Map<string, CharacterRecord>();
  #nextSeq = 1;
  #writing: Promise<void> = Promise.resolve();

  private constructor(dir: string) {
    this.dir = dir;
    this.uploadsDir = path.join(dir, 'uploads');
  }

  static async open(dir: string): Promise<StateStore> {
    const store = new StateStore(path.resolve(dir));
    await fs.mkdir(store.uploadsDir, { recursive: true });
    let text: string | null = null;
    try {
      text = await fs.readFile(store.#file(), 'utf8');
    } catch (e: unknown) {
      if (!(e instanceof Error && 'code' in e && e.code === 'ENOENT')) throw e;
    }
    if (text !== null) {
      const parsed: unknown = JSON.parse(text);
      if (!isStateFile(parsed)) throw new Error(`${store.#file()}: not an emulator state file (version 1)`);
      store.#nextSeq = parsed.nextSeq;
      for (const j of parsed.jobs) store.jobs.set(j.id, j);
      for (const c of parsed.characters) store.characters.set(c.id, c);
    }
    return store;
  }

  #file(): string {
    return path.join(this.dir, 'state.json');
  }

  takeSeq(): number {
    return this.#nextSeq++;
  }

  /** Persists the current state; concurrent calls are serialized, each writes the latest snapshot. */
  save(): Promise<void> {
    const next = this.#writing.then(() => {
      const state: StateFile = {
        version: 1,
        nextSeq: this.#nextSeq,
        jobs: [...this.jobs.values()],
        characters: [...this.characters.values()],
      };
      return writeFileAtomic(this.#file(), `${JSON.stringify(state)}\n`);
    });
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async flush(): Promise<void> {
    await this.#writing;
  }
}
