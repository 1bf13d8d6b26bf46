import { setTimeout as delay } from 'node:timers/promises';
import type { Result } from '../core/result.js';
import type { ObjectStore, RemoteError } from './object-store.js';

/**
 * The store with a few more tries of the small calls the lock makes when the
 * server answered with an error of its own (`failed`: a 500, a 503 SlowDown),
 * on top of the SDK's own. Every such call of the lock is safe to repeat: a
 * read, a listing, a claim written under its own unique key, a delete.
 * Unreachable, refused credentials or a missing bucket are not retried: they
 * do not pass in a second.
 */
export function retryingStore(store: ObjectStore, attempts = 4, baseMs = 100): ObjectStore {
  const retry = async <T>(call: () => Promise<Result<T, RemoteError>>): Promise<Result<T, RemoteError>> => {
    let result = await call();
    for (let n = 1; n < attempts && !result.ok && result.error.code === 'failed'; n++) {
      await delay(baseMs * 2 ** (n - 1) * (1 + Math.random()));
      result = await call();
    }
    return result;
  };
  return {
    url: store.url,
    probe: () => retry(() => store.probe()),
    getText: (key) => retry(() => store.getText(key)),
    getStream: (key) => store.getStream(key),
    head: (key) => retry(() => store.head(key)),
    putText: (key, body, options) => retry(() => store.putText(key, body, options)),
    putFile: (key, file, bytes) => store.putFile(key, file, bytes),
    list: (prefix) => retry(() => store.list(prefix)),
    delete: (key) => retry(() => store.delete(key)),
  };
}
