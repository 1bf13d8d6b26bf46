import type { Lockfile } from '../lock/lockfile.js';
import { writeLockfile } from '../lock/write-lockfile.js';

/**
 * The only path by which a run changes `videos.lock`. Workers run
 * concurrently, so each change is a function applied to the latest in-memory
 * lockfile (no lost updates), and writes are serialized and coalesced: while
 * one write is in flight, later changes accumulate and go out together in
 * the next one. `update` resolves once a write containing the change is on
 * disk, which is what the exactly-once protocol waits for before a paid call.
 */
export class LockWriter {
  private current: Lockfile;
  private writing: Promise<void> | undefined;
  private pending: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;

  constructor(
    private readonly lockPath: string,
    initial: Lockfile,
    private readonly write: (path: string, lock: Lockfile) => Promise<void> = writeLockfile,
  ) {
    this.current = initial;
  }

  get lock(): Lockfile {
    return this.current;
  }

  update(change: (lock: Lockfile) => Lockfile): Promise<void> {
    const next = change(this.current);
    // A change that changes nothing (an output restored with the bytes the
    // lock already records) is not written: rewriting would only move
    // timestamps, and a committed lock must not churn on every `pull`.
    if (next === this.current) return Promise.resolve();
    this.current = next;
    return this.flush();
  }

  /** Resolves when everything changed so far is on disk. */
  flush(): Promise<void> {
    if (this.pending !== undefined) return this.pending.promise;
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.pending = { promise, resolve, reject };
    void this.pump();
    return promise;
  }

  private async pump(): Promise<void> {
    if (this.writing !== undefined) return;
    while (this.pending !== undefined) {
      const batch = this.pending;
      this.pending = undefined;
      const snapshot = this.current;
      this.writing = this.write(this.lockPath, snapshot);
      try {
        await this.writing;
        batch.resolve();
      } catch (e: unknown) {
        batch.reject(e);
      } finally {
        this.writing = undefined;
      }
    }
  }
}
