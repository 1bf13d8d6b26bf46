import path from 'node:path';
import { lockfileNameForManifest } from '../../lock/lockfile-path.js';
import { errorDiagnostic, formatDiagnostic, UserError, type Diagnostic } from '../../core/diagnostic.js';
import { acquireRunLock } from '../../lock/run-lock.js';
import { checkStateFolders } from '../../lock/state-folders.js';
import { createBackend } from '../../backend/create-backend.js';
import { heartbeatFromEnv, plainLogger } from '../progress/plain-logger.js';
import { ndjsonLine, ndjsonLogger } from '../progress/ndjson-logger.js';
import { oneLine } from '../../core/terminal-text.js';
import { TtyView } from '../progress/tty-view.js';
import { colorsFor, type Colors } from '../colors.js';
import { askYesNo } from '../progress/confirm.js';
import { Watcher } from '../../watch/watcher.js';
import { WatchSession } from '../../watch/watch-session.js';
import { openFileWatcher } from '../../watch/file-watcher.js';
import { watchedFilesOf } from '../../watch/watched-files.js';
import { loadManifest } from '../../manifest/load-manifest.js';
import type { Manifest } from '../../manifest/manifest.js';
import type { Result } from '../../core/result.js';
import type { ObjectStore } from '../../remote/object-store.js';
import { openRemote } from '../../remote/open-remote.js';
import { waitForValidManifest } from '../../watch/wait-for-manifest.js';
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
 * Started on an invalid manifest, it shows the error and waits for a valid
 * save (watch/wait-for-manifest.ts); a manifest that does not exist at all is
 * an error (most likely a wrong -f), though one deleted *during* the session
 * is waited for like any invalid edit.
 *
 * Exit codes: 0 after `q`, 130 after Ctrl-C / SIGINT (also at the y/N
 * question), 143 after SIGTERM (as apply), 1 when it cannot start or the question is answered no.
 */
export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const file = path.resolve(typeof opts['file'] === 'string' ? opts['file'] : 'videos.yaml');
  const json = opts['json'] === true;
  const colors = colorsFor(process.stdout, opts['color'] === false || json);
  const errColors = colorsFor(process.stderr, opts['color'] === false || json);
  const rawMaxCost = opts['maxCost'];
  // A mistyped budget must not mean "no budget": refuse it, as apply does.
  if (rawMaxCost !== undefined && !(typeof rawMaxCost === 'number' && Number.isFinite(rawMaxCost) && rawMaxCost >= 0)) {
    throw new UserError(errorDiagnostic('bad-max-cost', '--max-cost must be an amount in USD, 0 or more (e.g. --max-cost 5)'));
  }
  const maxCost = typeof rawMaxCost === 'number' ? rawMaxCost : undefined;
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

  // The project is the manifest's directory. A manifest that does not exist
  // (or is a directory) is most likely a wrong -f: say so and stop. One that
  // exists but is invalid (half-written) is shown and waited on: the session
  // starts at the first valid save.
  const first = await loadManifest(file, { cwd: process.cwd() });
  if (!first.ok && first.error.some((d) => d.code === 'manifest-missing' || d.code === 'manifest-unreadable')) {
    for (const d of first.error) printDiag(d);
    return 1;
  }
  const projectDir = path.dirname(file);

  const state = await checkStateFolders(projectDir);
  if (!state.ok) {
    printDiag(state.error);
    return 1;
  }
  const runLock = await acquireRunLock(projectDir, 'watch');
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
    // Started before the manifest is valid, so the page can show why it is not.
    // `--port` alone means the page is wanted: serving it beats silently ignoring the flag.
    const store = opts['preview'] === true || port !== undefined
      ? new PreviewStore({ manifest: path.relative(process.cwd(), file) || file, maxCost, backend: kind === 'emulator' ? 'emulator (free)' : '' })
      : undefined;
    let server: PreviewServer | undefined;
    if (store !== undefined) {
      const started = await startPreviewServer({ projectDir, store, ...(port === undefined ? {} : { port }) });
      if (!started.ok) {
        printDiag(started.error);
        return 1;
      }
      server = started.value;
      cleanups.push(() => server?.close());
      (json ? err : out)(`preview: ${server.url}`);
    }

    let manifest: Manifest;
    if (first.ok) manifest = first.value.manifest;
    else {
      const waited = await untilValid(file, store, { json, colors, out, err, onWatcherError: (e) => printDiag(watcherWarning(e)) });
      if (waited.kind === 'quit') return waited.code;
      manifest = waited.manifest;
    }

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
    const remote = await probedRemote(typeof opts['remote'] === 'string' ? opts['remote'] : undefined, manifest);
    if (!remote.ok) {
      printDiag(remote.error);
      if (remote.error.severity === 'error') return 1;
    }

    // Same rails as apply: a paying backend asks once for the session, or needs --yes.
    if (!backend.value.free && opts['yes'] !== true) {
      if (json || process.stdin.isTTY !== true || process.stderr.isTTY !== true) {
        printDiag(
          errorDiagnostic(
            'confirmation-required',
            'watch submits paid jobs on every save: pass --yes (and a --max-cost budget), or use --backend emulator',
          ),
        );
        return 1;
      }
      const budget = maxCost === undefined ? 'no budget set (--max-cost)' : `budget $${maxCost.toFixed(2)} for the session`;
      const answer = await askYesNo(
        `watch submits paid jobs to ${backend.value.baseURL} on every save (${budget}). Continue? [y/N] `,
        process.stdin,
        process.stderr,
      );
      if (answer !== 'yes') {
        err('watch: cancelled; nothing was submitted');
        return answer === 'interrupted' ? 130 : 1;
      }
    }
    store?.setBackend(backend.value.kind === 'emulator' ? 'emulator (free)' : backend.value.baseURL, backend.value.free);

    // In a terminal, running jobs get live progress bars (the same view as
    // apply) and watch's own lines scroll above them; elsewhere, plain lines.
    const tty = !json && process.stdout.isTTY === true ? new TtyView(process.stdout, colors) : undefined;
    if (tty !== undefined) cleanups.push(() => tty.stop());
    const say = tty === undefined ? out : (line: string) => tty.print(line);
    // Notices about the session itself; under --json they go to stderr so stdout stays NDJSON.
    const note = json ? err : say;
    const execLog = json ? ndjsonLogger(out) : tty !== undefined ? tty.onEvent : plainLogger(out, colors, heartbeatFromEnv(process.env));
    const onEvent = (e: WatchEvent) => {
      if (json) {
        if (e.type === 'exec') execLog(e.event);
        else out(ndjsonLine({ ...e, type: `watch-${e.type}` }));
        return;
      }
      if (e.type === 'exec') {
        // The re-plan lines already said what will run.
        if (e.event.type !== 'plan-ready') execLog(e.event);
        return;
      }
      for (const line of describeWatchEvent(e, colors)) (e.type === 'manifest-invalid' ? err : say)(oneLine(line));
    };

    let watcher: Watcher | undefined;
    const files = await openFileWatcher(watchedFilesOf(manifest), {
      root: manifest.projectDir,
      onChange: (f) => watcher?.fileChanged(f),
      onError: (e) => printDiag(watcherWarning(e)),
    });
    cleanups.push(() => files.close());

    const session = new WatchSession({
      manifestFile: manifest.file,
      cwd: process.cwd(),
      backend: backend.value,
      ...(remote.ok && remote.value !== undefined ? { remote: remote.value } : {}),
      loadManifest,
      maxCost,
      allowUnpriced: opts['allowUnpriced'] === true,
      retryFailed: opts['retryFailed'] === true,
      concurrency: undefined,
      store,
      onEvent,
      setWatchedFiles: (set) => files.setFiles(set),
    });
    watcher = new Watcher({ debounceMs: DEBOUNCE_MS, runCycle: session.runCycle });

    // q: quit cleanly. Ctrl-C / SIGINT / SIGTERM: the same, exit 130 (143). A second
    // one stops waiting for obsolete jobs; a third exits at once.
    let quits = 0;
    let exitCode = 0;
    const giveUp = new AbortController();
    const quit = (code: number) => {
      quits++;
      exitCode = Math.max(exitCode, code);
      if (quits === 1) {
        note(`watch: stopping (no new jobs start; ids already created are saved in ${lockfileNameForManifest(file)})`);
        watcher?.abort();
      } else if (quits === 2) {
        giveUp.abort();
      } else {
        process.exit(exitCode === 0 ? 130 : exitCode);
      }
    };
    const onSigint = () => quit(130);
    const onSigterm = () => quit(143);
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      stdoutOpen = false;
      quit(0);
    });
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    cleanups.push(() => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
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
    const spent = `$${session.spent.toFixed(2)}`;
    note(`watch: stopped; session ${backend.value.free ? `est. ${spent} at API prices, free on the emulator` : `spent an estimated ${spent}`}`);
    return exitCode;
  } finally {
    await cleanup();
  }
}

function watcherWarning(e: Error): Diagnostic {
  return { code: 'watch-error', severity: 'warning', message: `file watcher: ${e.message}` };
}

type Waited = { readonly kind: 'valid'; readonly manifest: Manifest } | { readonly kind: 'quit'; readonly code: number };

/**
 * Watch was started on an invalid manifest: show each error and wait for a
 * valid save. No backend exists yet (the manifest names the provider), so
 * only quitting is on the keyboard: `q` (exit 0), Ctrl-C / SIGINT (130), SIGTERM (143).
 */
async function untilValid(
  file: string,
  store: PreviewStore | undefined,
  p: {
    readonly json: boolean;
    readonly colors: Colors;
    readonly out: (line: string) => void;
    readonly err: (line: string) => void;
    readonly onWatcherError: (e: Error) => void;
  },
): Promise<Waited> {
  const wait = await waitForValidManifest({
    manifestFile: file,
    cwd: process.cwd(),
    loadManifest,
    debounceMs: DEBOUNCE_MS,
    store,
    onError: p.onWatcherError,
    onEvent: (e) => {
      if (e.type === 'exec') return;
      if (p.json) p.out(JSON.stringify({ ...e, type: `watch-${e.type}` }));
      else for (const line of describeWatchEvent(e, p.colors)) (e.type === 'manifest-invalid' ? p.err : p.out)(line);
    },
  });
  let code: number | undefined;
  const quit = (c: number) => {
    code = Math.max(code ?? 0, c);
    wait.stop();
  };
  const onSignal = () => quit(130);
  const onTerm = () => quit(143);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onTerm);
  const keys = listenForKeys(process.stdin, (command) => {
    if (command === 'quit') quit(0);
    else if (command === 'interrupt') quit(130);
  });
  try {
    const loaded = await wait.loaded;
    return loaded === undefined || code !== undefined ? { kind: 'quit', code: code ?? 0 } : { kind: 'valid', manifest: loaded.manifest };
  } finally {
    keys.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onTerm);
  }
}

/**
 * The remote for the session, probed once: a bad `--remote` is an error; a
 * remote that does not answer is a warning and the session runs on the
 * local cache (the job runner's last check before paying then cannot see
 * the team's copies, which the warning says).
 */
async function probedRemote(flag: string | undefined, manifest: Manifest): Promise<Result<ObjectStore | undefined, Diagnostic>> {
  const opened = await openRemote({ flag, env: process.env, manifest: manifest.remote });
  if (!opened.ok || opened.value === undefined) return opened;
  const probed = await opened.value.probe();
  if (probed.ok) return opened;
  return { ok: false, error: { code: 'remote-unavailable', severity: 'warning', message: `${probed.error.message}; watch uses the local cache only` } };
}
