import path from 'node:path';
import readline from 'node:readline/promises';
import { errorDiagnostic, formatDiagnostic, UserError, type Diagnostic } from '../../core/diagnostic.js';
import { acquireRunLock } from '../../lock/run-lock.js';
import { createBackend } from '../../backend/create-backend.js';
import { plainLogger } from '../progress/plain-logger.js';
import { ndjsonLogger } from '../progress/ndjson-logger.js';
import { TtyView } from '../progress/tty-view.js';
import { colorsFor } from '../colors.js';
import { Watcher } from '../../watch/watcher.js';
import { WatchSession } from '../../watch/watch-session.js';
import { openFileWatcher } from '../../watch/file-watcher.js';
import { watchedFilesOf } from '../../watch/watched-files.js';
import { loadManifest } from '../../manifest/load-manifest.js';
import { PreviewStore } from '../../watch/preview-state.js';
import { startPreviewServer, type PreviewServer } from '../../watch/preview-server.js';
import { listenForKeys, type KeyInput } from '../../watch/keys.js';
import { describeWatchEvent } from '../../watch/watch-log.js';
import type { WatchEvent } from '../../watch/watch-events.js';

/** Quiet time after the last save before re-planning: long enough to fold an editor's write+rename bursts. */
const DEBOUNCE_MS = 120;

/**
 * `vidbuild watch`: apply, then re-plan and apply on every save until `q` /
 * Ctrl-C. Optional live preview page (`--preview`). Wiring only: the loop is
 * watch/watcher.ts, a cycle is watch/watch-session.ts.
 *
 * Exit codes: 0 after `q`, 130 after Ctrl-C / SIGINT / SIGTERM, 1 when it cannot start.
 */
export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const file = path.resolve(typeof opts['file'] === 'string' ? opts['file'] : 'videos.yaml');
  const json = opts['json'] === true;
  const colors = colorsFor(process.stdout, opts['color'] === false || json);
  const errColors = colorsFor(process.stderr, opts['color'] === false || json);
  const maxCost = typeof opts['maxCost'] === 'number' && Number.isFinite(opts['maxCost']) ? opts['maxCost'] : undefined;
  const port = typeof opts['port'] === 'number' ? opts['port'] : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new UserError(errorDiagnostic('bad-port', `--port must be an integer from 0 to 65535 (got ${String(opts['port'])})`));
  }
  const kind = opts['backend'] === 'emulator' ? 'emulator' : 'openai';
  // A closed stdout (the reader went away) must not crash the session mid-save.
  let stdoutOpen = true;
  const out = (line: string) => {
    if (stdoutOpen) process.stdout.write(`${line}\n`);
  };
  const err = (line: string) => process.stderr.write(`${line}\n`);
  const printDiag = (d: Diagnostic) => err(d.severity === 'warning' ? errColors.yellow(formatDiagnostic(d)) : formatDiagnostic(d));

  // The first load decides the project and the provider; after that an invalid
  // edit only pauses the session.
  const first = await loadManifest(file, { cwd: process.cwd() });
  if (!first.ok) {
    for (const d of first.error) printDiag(d);
    return 1;
  }
  const { manifest } = first.value;

  const runLock = await acquireRunLock(manifest.projectDir, 'watch');
  if (!runLock.ok) {
    printDiag(runLock.error);
    return 1;
  }
  if (runLock.value.warning !== undefined) printDiag(runLock.value.warning);
  const releaseOnExit = () => runLock.value.releaseSync();
  process.on('exit', releaseOnExit);

  const cleanups: Array<() => Promise<void> | void> = [
    () => {
      process.off('exit', releaseOnExit);
      return runLock.value.release();
    },
  ];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c();
  };

  try {
    const backend = await createBackend({
      kind,
      baseURL: typeof opts['baseUrl'] === 'string' ? opts['baseUrl'] : undefined,
      provider: manifest.provider,
      projectDir: manifest.projectDir,
      env: process.env,
    });
    if (!backend.ok) {
      printDiag(backend.error);
      return 1;
    }
    cleanups.push(() => backend.value.close());

    // Same rails as apply: a paying backend asks once for the session, or needs --yes.
    if (!backend.value.free && opts['yes'] !== true) {
      const agreed = await confirmSpending(maxCost);
      if (agreed === 'no-tty') {
        printDiag(
          errorDiagnostic(
            'confirmation-required',
            'watch submits paid jobs on every save: pass --yes (and a --max-cost budget), or use --backend emulator',
          ),
        );
        return 1;
      }
      if (!agreed) {
        err('watch: cancelled');
        return 1;
      }
    }

    const store = opts['preview'] === true
      ? new PreviewStore({ manifest: path.relative(process.cwd(), file) || file, maxCost, backend: backend.value.kind === 'emulator' ? 'emulator (free)' : backend.value.baseURL })
      : undefined;
    let server: PreviewServer | undefined;
    if (store !== undefined) {
      const started = await startPreviewServer({ projectDir: manifest.projectDir, store, ...(port === undefined ? {} : { port }) });
      if (!started.ok) {
        printDiag(started.error);
        return 1;
      }
      server = started.value;
      cleanups.push(() => server?.close());
    }

    // In a terminal, running jobs get live progress bars (the same view as
    // apply) and watch's own lines scroll above them; elsewhere, plain lines.
    const tty = !json && process.stdout.isTTY === true ? new TtyView(process.stdout, colors) : undefined;
    if (tty !== undefined) cleanups.push(() => tty.stop());
    const say = tty === undefined ? out : (line: string) => tty.print(line);
    // Notices about the session itself; under --json they go to stderr so stdout stays NDJSON.
    const note = json ? err : say;
    const execLog = json ? ndjsonLogger(out) : tty !== undefined ? tty.onEvent : plainLogger(out, colors);
    const onEvent = (e: WatchEvent) => {
      if (json) {
        if (e.type === 'exec') execLog(e.event);
        else out(JSON.stringify({ ...e, type: `watch-${e.type}` }));
        return;
      }
      if (e.type === 'exec') {
        // The re-plan lines already said what will run.
        if (e.event.type !== 'plan-ready') execLog(e.event);
        return;
      }
      for (const line of describeWatchEvent(e, colors)) (e.type === 'manifest-invalid' ? err : say)(line);
    };

    let watcher: Watcher | undefined;
    const files = await openFileWatcher(watchedFilesOf(manifest), {
      onChange: (f) => watcher?.fileChanged(f),
      onError: (e) => printDiag({ code: 'watch-error', severity: 'warning', message: `file watcher: ${e.message}` }),
    });
    cleanups.push(() => files.close());

    const session = new WatchSession({
      manifestFile: manifest.file,
      cwd: process.cwd(),
      backend: backend.value,
      loadManifest,
      maxCost,
      retryFailed: opts['retryFailed'] === true,
      concurrency: undefined,
      store,
      onEvent,
      setWatchedFiles: (set) => files.setFiles(set),
    });
    watcher = new Watcher({ debounceMs: DEBOUNCE_MS, runCycle: session.runCycle });

    if (server !== undefined) note(`preview: ${server.url}`);

    // q: quit cleanly. Ctrl-C / SIGINT / SIGTERM: the same, exit 130. A second
    // one stops waiting for obsolete jobs; a third exits at once.
    let quits = 0;
    let exitCode = 0;
    const giveUp = new AbortController();
    const quit = (code: number) => {
      quits++;
      exitCode = Math.max(exitCode, code);
      if (quits === 1) {
        note('watch: stopping (no new jobs start; ids already created are saved in videos.lock)');
        watcher?.abort();
      } else if (quits === 2) {
        giveUp.abort();
      } else {
        process.exit(exitCode === 0 ? 130 : exitCode);
      }
    };
    const onSigint = () => quit(130);
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      stdoutOpen = false;
      quit(0);
    });
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    cleanups.push(() => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    });
    const keys: KeyInput = listenForKeys(process.stdin, (command) => {
      switch (command) {
        case 'quit':
          quit(0);
          return;
        case 'interrupt':
          quit(130);
          return;
        case 'retry':
          watcher?.retryFailed();
          return;
      }
    });
    cleanups.push(() => keys.close());

    await watcher.start();
    if (session.pendingObsoleteJobs > 0 && !giveUp.signal.aborted) {
      note(`watch: waiting for ${session.pendingObsoleteJobs} obsolete job(s) to land in the cache (press q or Ctrl-C again to leave them)`);
    }
    await session.close(giveUp.signal);
    note(`watch: stopped; session spent an estimated $${session.spent.toFixed(2)}`);
    return exitCode;
  } finally {
    await cleanup();
  }
}

/** Ask once per session before a paying backend is used; 'no-tty' when nobody can answer. */
async function confirmSpending(maxCost: number | undefined): Promise<boolean | 'no-tty'> {
  if (process.stdin.isTTY !== true || process.stderr.isTTY !== true) return 'no-tty';
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const budget = maxCost === undefined ? 'no budget set (--max-cost)' : `budget $${maxCost.toFixed(2)} for the session`;
    const answer = await rl.question(`watch submits paid jobs on every save (${budget}). Continue? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
