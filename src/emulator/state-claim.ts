import fs from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { pidAlive } from '../lock/run-lock.js';

/**
 * One emulator per state directory. Each emulator keeps its state in memory
 * and rewrites `state.json` whole, so a second one on the same directory (a
 * standalone `vidbuild emulator` in a project, plus `apply --backend
 * emulator`, which uses `.vidbuild/emulator` too) would silently drop the
 * other's jobs. `emulator.pid` names the holder; a holder whose process is
 * gone (kill -9) is taken over.
 */
export interface StateClaim {
  /** Records where this emulator listens, so the message to a second one can say where to point instead. */
  setBaseURL(url: string): Promise<void>;
  release(): Promise<void>;
  releaseSync(): void;
}

/** Directories claimed by emulators of this process (a pid check cannot tell them apart). */
const claimedHere = new Set<string>();

export class StateDirInUse extends Error {}

export async function claimStateDir(dir: string): Promise<StateClaim> {
  const file = path.join(dir, 'emulator.pid');
  const content = `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() })}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (claimedHere.has(dir)) throw new StateDirInUse(`state directory ${dir} is in use by another emulator in this process`);
    try {
      await fs.writeFile(file, content, { flag: 'wx' });
      claimedHere.add(dir);
      return claimOf(dir, file, content);
    } catch (e: unknown) {
      if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
    }
    const raw = await fs.readFile(file, 'utf8').catch(() => '');
    const holder = parseHolder(raw);
    if (holder !== undefined && holder.pid !== process.pid && pidAlive(holder.pid)) {
      const where = holder.baseURL === undefined ? '' : ` at ${holder.baseURL}`;
      throw new StateDirInUse(
        `state directory ${dir} is in use by the emulator of pid ${holder.pid}${where} (since ${holder.startedAt}); stop it, or point at it with --base-url`,
      );
    }
    // Left by a process that is gone (or unreadable): take it over.
    await fs.unlink(file).catch(() => undefined);
  }
  throw new StateDirInUse(`state directory ${dir} is in use (could not claim ${file})`);
}

function claimOf(dir: string, file: string, initial: string): StateClaim {
  let released = false;
  let content = initial;
  const ours = (raw: string | undefined): boolean => raw === content;
  return {
    async setBaseURL(url) {
      const next = `${JSON.stringify({ ...(JSON.parse(content) as object), baseURL: url })}\n`;
      if (released || !ours(await fs.readFile(file, 'utf8').catch(() => undefined))) return;
      await fs.writeFile(file, next);
      content = next;
    },
    async release() {
      if (released) return;
      released = true;
      claimedHere.delete(dir);
      if (ours(await fs.readFile(file, 'utf8').catch(() => undefined))) await fs.unlink(file).catch(() => undefined);
    },
    releaseSync() {
      if (released) return;
      released = true;
      claimedHere.delete(dir);
      try {
        if (ours(readFileSync(file, 'utf8'))) unlinkSync(file);
      } catch {
        // Already gone.
      }
    },
  };
}

function parseHolder(raw: string): { readonly pid: number; readonly startedAt: string; readonly baseURL: string | undefined } | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null) return undefined;
    const pid = Reflect.get(v, 'pid');
    const startedAt = Reflect.get(v, 'startedAt');
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
    const baseURL = Reflect.get(v, 'baseURL');
    return { pid, startedAt: typeof startedAt === 'string' ? startedAt : '?', baseURL: typeof baseURL === 'string' ? baseURL : undefined };
  } catch {
    return undefined;
  }
}
