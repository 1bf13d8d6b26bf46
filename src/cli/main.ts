import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { packagePath } from '../core/package-paths.js';
import { UserError, formatDiagnostic } from '../core/diagnostic.js';
import { describeLocalWriteAt, localWriteErrorOf } from '../core/local-write-error.js';
import { fileOfTempName } from '../lock/sweep-stale-temp.js';
import { closestMatch } from '../manifest/did-you-mean.js';
import { byteSize, decimal, httpURL, refuseOptionsAsValues, wholeNumber } from './option-parsers.js';

/**
 * Entry point: parses arguments, lazy-imports the command module, and owns the
 * exit-code contract. Known errors (UserError) print one line each, and so
 * does an error of this machine's file system (a full disk, a read-only or
 * unwritable project: not a bug, exit 1); anything else is a bug and is
 * shown with its stack.
 *
 * Every command module exports `run(options): Promise<number>` returning the
 * exit code. Options arrive as commander parsed them (camelCased).
 */

type CommandModule = { run: (opts: Record<string, unknown>, args: readonly string[]) => Promise<number> };

function lazy(load: () => Promise<CommandModule>) {
  return async function action(this: Command, ...raw: unknown[]): Promise<void> {
    // commander passes positional args, then the options object, then the Command.
    const args = raw.slice(0, -2).map(String);
    const opts = this.optsWithGlobals();
    const mod = await load();
    process.exitCode = await mod.run(opts, args);
  };
}

const fileOption = () =>
  new Option('-f, --file <path>', 'path to the manifest').default('videos.yaml');

/** The version in package.json: a literal here went stale at the first release bump. */
function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(packagePath('package.json'), 'utf8'));
  const v = typeof pkg === 'object' && pkg !== null ? Reflect.get(pkg, 'version') : undefined;
  return typeof v === 'string' ? v : 'unknown';
}

const EXIT_CODES = `
Exit codes (every command):
  0    success (plan --detailed-exitcode: no changes)
  1    invalid input, a refused run, a failed or skipped target, or a file it cannot write
  2    plan --detailed-exitcode: there are changes
  70   internal error (a bug: please report it)
  130  interrupted by Ctrl-C (every job id already created is saved; run again to resume)
  143  watch stopped by SIGTERM`;

/** `error: unknown option '--jsn'\n(Did you mean --json?)\n` → `error: unknown option '--jsn' (did you mean --json?)\n`. */
function oneLineError(str: string): string {
  const joined = str
    .replace(/\n\(Did you mean (.+?)\?\)/g, ' (did you mean $1?)')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
  return `${joined}\n`;
}

/**
 * `vidbuild -f site.yaml plan`: commander reads options up to the command
 * as vidbuild's own, so -f is "unknown". When the command named later takes
 * it, say where it goes.
 */
function withOrderHint(line: string, argv: readonly string[]): string {
  const unknown = /^error: unknown option '([^']+)'/.exec(line)?.[1];
  if (unknown === undefined) return line;
  const flag = unknown.split('=', 1)[0] ?? unknown;
  const at = argv.findIndex((a) => a === unknown);
  const cmdAt = argv.findIndex((a) => program.commands.some((c) => c.name() === a));
  const cmd = program.commands.find((c) => c.name() === argv[cmdAt]);
  if (cmd === undefined || at < 0 || at > cmdAt) return line;
  if (!cmd.options.some((o) => o.short === flag || o.long === flag)) return line;
  return `${line.trimEnd()}; options go after the command: vidbuild ${cmd.name()} ${flag} …\n`;
}

const program = new Command()
  .name('vidbuild')
  .description('Declarative builds for AI-generated video (OpenAI Videos API / Sora).')
  .version(packageVersion())
  .option('--no-color', 'disable colours (also off under NO_COLOR or when not a TTY)')
  // Set before the commands are added: they copy it. Commander's errors take
  // two or three lines (the error, "(Did you mean …?)", a help hint); ours are
  // one line each, so scripts and people read the same thing.
  .configureOutput({ outputError: (str, write) => write(withOrderHint(oneLineError(str), process.argv.slice(2))) })
  .helpCommand(false)
  .addHelpText('after', EXIT_CODES)
  .exitOverride();

// Our own `help [command]`: commander's answers `help nosuch` with the whole
// program help and exit 1, not an unknown-command error with a suggestion.
program
  .command('help')
  .description('display help for a command')
  .argument('[command]', 'the command')
  .action((name: string | undefined) => {
    if (name === undefined) return program.outputHelp();
    const cmd = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
    if (cmd !== undefined) return cmd.outputHelp();
    const near = closestMatch(name, program.commands.map((c) => c.name()));
    program.error(`error: unknown command '${name}'${near === undefined ? '' : ` (did you mean ${near}?)`}`, { code: 'commander.unknownCommand' });
  });

program
  .command('init')
  .description('write a starter videos.yaml (with the schema modeline) and .gitignore entries')
  .addOption(fileOption())
  .option('--force', 'overwrite an existing manifest')
  .action(lazy(() => import('./commands/init.js')));

program
  .command('validate')
  .description('check the manifest and referenced files; print every problem as file:line:col')
  .addOption(fileOption())
  .option('--json', 'print as one JSON document on stdout (errors too, as {ok:false, diagnostics}; nothing on stderr)')
  .action(lazy(() => import('./commands/validate.js')));

program
  .command('plan')
  .description('show what apply would create, replace, resume, fetch or leave alone, and its cost')
  .addOption(fileOption())
  .option('--json', 'print the plan as one JSON document on stdout (errors too, as {ok:false, diagnostics}; nothing on stderr)')
  .addOption(new Option('--format <format>', 'text (default), json (as --json) or markdown (a pull-request comment)').choices(['text', 'json', 'markdown']))
  .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on error')
  .option('--target <name...>', 'plan only these targets (and their sources)')
  .option('--shard <K/N>', 'plan only the targets that apply --shard K/N would take')
  .option('--replace <name...>', 'force these targets to be regenerated')
  .option('--retry-failed', 'plan a retry of targets whose job failed with their current inputs (otherwise left failed)')
  .option('--remote <url>', 'shared cache to look in, s3://bucket/prefix (overrides VIDBUILD_REMOTE and the manifest; "off" for none)')
  .action(lazy(() => import('./commands/plan.js')));

const backendOptions = (cmd: Command): Command =>
  cmd
    .addOption(
      new Option('--backend <kind>', 'where jobs run').choices(['openai', 'emulator']).default('openai'),
    )
    .option('--base-url <url>', 'API base URL of an OpenAI-compatible provider (overrides the manifest)', httpURL)
    .option('--remote <url>', 'shared cache and lock, s3://bucket/prefix (overrides VIDBUILD_REMOTE and the manifest; "off" for none)');

backendOptions(
  program
    .command('apply')
    .description('generate what changed and materialize the outputs')
    .addOption(fileOption())
    .option('-y, --yes', 'do not ask before spending money')
    .option('--frozen', 'never create jobs: only restore outputs; fail if anything needs generating')
    .option('--max-cost <usd>', 'refuse a plan whose estimated cost is above this, or that has steps with no known price', decimal('an amount in USD'))
    .option('--allow-unpriced', 'with --max-cost: run steps with no known price anyway (the budget cannot bound them)')
    .option('--target <name...>', 'apply only these targets (and their sources)')
    .option('--shard <K/N>', 'apply only shard K of N: a fixed share of the targets by the name of their root source, so N CI runners build one manifest together (with a shared remote:)')
    .option('--replace <name...>', 'force these targets to be regenerated')
    .option('--retry-failed', 'resubmit targets whose job failed with their current inputs (otherwise they are left failed, exit 1)')
    .option('--concurrency <n>', 'generation jobs at once', wholeNumber(1))
    .option('--download-concurrency <n>', 'downloads at once', wholeNumber(1))
    .option('--force', 'move aside files in the place of an output that vidbuild did not write (a.mp4 → a.moved-TIME.mp4) instead of failing that target')
    .option('--json', 'print NDJSON events'),
).action(lazy(() => import('./commands/apply.js')));

backendOptions(
  program
    .command('pull')
    .description('restore every output the cache or the API still has; never spends (targets that need a new job are listed, exit 1)')
    .addOption(fileOption())
    .option('--force', 'move aside files in the place of an output that vidbuild did not write instead of failing that target')
    .option('--json', 'print NDJSON events'),
).action(lazy(() => import('./commands/pull.js')));

backendOptions(
  program
    .command('status')
    .description('table of targets: action, job id, status, age, expiry, local files')
    .addOption(fileOption())
    .option('--json', 'print the rows as one JSON array on stdout (errors as {ok:false, diagnostics}; nothing on stderr)'),
).action(lazy(() => import('./commands/status.js')));

backendOptions(
  program
    .command('prune')
    .description('delete orphaned jobs (remote) and their outputs (local)')
    .addOption(fileOption())
    .option('-y, --yes', 'do not ask for confirmation'),
).action(lazy(() => import('./commands/prune.js')));

backendOptions(
  program
    .command('import')
    .description('adopt an existing job into the lockfile')
    .argument('<name>', 'target name in the manifest')
    .argument('<video-id>', 'the job id (video_…)')
    .option('--force', 'import a job made from another prompt, size, length or source; the lock records it as made, so the next plan replaces it')
    .addOption(fileOption()),
).action(lazy(() => import('./commands/import.js')));

backendOptions(
  program
    .command('watch')
    .description('re-plan and apply on every save; optional live preview page')
    .addOption(fileOption())
    .option('-y, --yes', 'do not ask before spending money')
    .option('--max-cost <usd>', 'budget for the whole session (steps with no known price are held)', decimal('an amount in USD'))
    .option('--allow-unpriced', 'with --max-cost: run steps with no known price anyway (the budget cannot bound them)')
    .option('--retry-failed', 'resubmit targets whose current inputs already failed')
    .option('--preview', 'serve a live preview page on 127.0.0.1')
    .option('--port <n>', 'preview port (default: a free port)', wholeNumber(0, 65535))
    .option('--json', 'print NDJSON events')
    .addHelpText(
      'after',
      '\nStarted on an invalid manifest, watch shows the error and waits for a valid save (q quits);\n' +
        'a manifest that does not exist is an error (exit 1). --port alone implies --preview.\n' +
        'Keys: q quits, r resubmits failed targets. Exit: 0 after q, 130 after Ctrl-C, 143 after SIGTERM.',
    ),
).action(lazy(() => import('./commands/watch.js')));

const remoteOption = (cmd: Command): Command =>
  cmd.option('--remote <url>', 'the remote cache, s3://bucket/prefix (overrides VIDBUILD_REMOTE and the manifest)');

remoteOption(
  program
    .command('push')
    .description('upload local cache entries the remote cache lacks (objects first, index last); report counts and bytes')
    .addOption(fileOption())
    .option('--json', 'print the counts as one JSON document'),
).action(lazy(() => import('./commands/push.js')));

const remote = program.command('remote').description("the team's remote cache (`remote:` in the manifest)");
remoteOption(
  remote
    .command('status')
    .description("what the remote cache holds (entries, objects, size) and which of this manifest's targets it has")
    .addOption(fileOption())
    .option('--json', 'print as one JSON document'),
).action(lazy(() => import('./commands/remote-status.js')));

program
  .command('gc')
  .description('trim the local cache (or with --remote, the remote one) to --max-size; keeps what videos.lock uses and recent entries; a dry run without --yes')
  .addOption(fileOption())
  .option('--max-size <size>', 'size to trim to, e.g. 2GB or 500MB (without it, only objects nothing names go; on the remote, only those over 1 hour old: a push in progress writes its index last)', byteSize)
  .option('--keep-days <n>', 'keep entries newer than this many days', wholeNumber(0), 7)
  .option('--remote [url]', 'trim the remote cache instead (its URL from the manifest or VIDBUILD_REMOTE unless given)')
  .option('-y, --yes', 'delete (without it, only says what it would delete)')
  .option('--json', 'print as one JSON document')
  .action(lazy(() => import('./commands/gc.js')));

program
  .command('emulator')
  .description('serve a local emulator of the OpenAI Videos API on 127.0.0.1')
  .option('--port <n>', 'port (0 = any free port)', wholeNumber(0, 65535), 0)
  .option('--dir <path>', 'state directory', '.vidbuild/emulator')
  .option('--job-seconds <s>', 'simulated generation time per job', decimal('seconds'))
  .option('--latency-ms <n>', 'hold every response this long after acting on it', wholeNumber(0))
  .option('--max-running <n>', 'jobs in progress at once; the rest stay queued', wholeNumber(1))
  .option('--rpm <n>', 'requests per minute before answering 429', wholeNumber(1))
  .option('--asset-ttl <s>', 'seconds until downloadable assets expire', decimal('seconds'))
  .option('--faults <json>', 'fault probabilities, e.g. {"seed":7,"429":0.2,"5xx":0.05}')
  .option('--end-status <status>', 'make jobs end in this status (e.g. expired) instead of completed')
  .option('--fps <n>', 'frame rate of rendered clips (default 24)', wholeNumber(4, 60))
  .option('--api-key-header <name>', 'require the key in this header, not Authorization: Bearer (as Azure OpenAI: api-key)')
  .option('--require-query <name=value...>', 'require these query parameters on every request (as Azure OpenAI: api-version=preview)')
  .action(lazy(() => import('./commands/emulator.js')));

/** Each command's exit codes in its own --help (the full list is in `vidbuild --help`). */
const COMMAND_EXIT_CODES: Readonly<Record<string, string>> = {
  init: '0 written; 1 refused (the manifest exists, the path is a folder).',
  validate: '0 valid (warnings alone do not fail); 1 errors.',
  plan: '0 planned (with --detailed-exitcode: 0 no changes, 2 changes); 1 error.',
  apply: '0 every target done; 1 error, refused run, or a failed or skipped target; 130 Ctrl-C.',
  pull: '0 every output restored; 1 error, or something needs a new job; 130 Ctrl-C.',
  status: '0 shown (failed targets included); 1 the manifest or lockfile cannot be read.',
  prune: '0 pruned or nothing to prune; 1 error or not confirmed; 130 Ctrl-C at the question.',
  import: '0 adopted; 1 error.',
  emulator: '0 stopped by Ctrl-C or SIGTERM; 1 cannot start.',
  push: '0 the remote has every local entry; 1 no remote, it cannot be reached, or an entry was not pushed.',
  gc: '0 trimmed (or, without --yes, shown); 1 error.',
};
for (const cmd of program.commands) {
  const codes = COMMAND_EXIT_CODES[cmd.name()];
  if (codes !== undefined) cmd.addHelpText('after', `\nExit codes: ${codes}`);
}

refuseOptionsAsValues(program);

/**
 * `vidbuild status | head -1`: the reader closing the pipe made the next
 * write throw EPIPE as an unhandled 'error' event, a crash with a stack. The
 * output is unwanted from then on, but the command is not: an apply keeps
 * running (its jobs are paid for, and the lock must record them), so the
 * error is swallowed and later writes go nowhere.
 */
function ignoreClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    throw e;
  });
}
ignoreClosedPipe(process.stdout);
ignoreClosedPipe(process.stderr);

/** A file as the user knows it: relative to the working directory when inside it, a temp file as the file it becomes. */
function shownPath(file: string): string {
  const abs = path.resolve(file);
  const real = path.join(path.dirname(abs), fileOfTempName(path.basename(abs)) ?? path.basename(abs));
  const rel = path.relative(process.cwd(), real);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? real : rel;
}

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e: unknown) {
    if (e instanceof CommanderError) {
      // commander already printed its message (or help/version).
      process.exitCode = e.exitCode;
      return;
    }
    if (e instanceof UserError) {
      for (const d of e.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    const local = localWriteErrorOf(e);
    if (local !== undefined) {
      process.stderr.write(`${describeLocalWriteAt(local, local.path === undefined ? 'a file' : shownPath(local.path))}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write('vidbuild: internal error (this is a bug, please report it):\n');
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  }
}

await main();
