import { UserError, errorDiagnostic } from '../../core/diagnostic.js';
import { parseFaults } from '../../emulator/faults.js';
import { apiKeyHeaderProblem } from '../../manifest/provider-checks.js';
import { startEmulator, type EmulatorOptions } from '../../emulator/server.js';

/**
 * `vidbuild emulator`: serves the emulated Videos API until SIGINT/SIGTERM.
 * Prints one line with the base URL to export as OPENAI_BASE_URL.
 */
export async function run(opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  const dir = typeof opts['dir'] === 'string' ? opts['dir'] : '.vidbuild/emulator';
  const number = (name: string, flag: string, min: number): number | undefined => {
    const v = opts[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      throw new UserError(errorDiagnostic('bad-option', `${flag} must be a number ≥ ${min} (got ${String(v)})`));
    }
    return v;
  };
  let faults: string | undefined;
  if (typeof opts['faults'] === 'string') {
    const parsed = parseFaults(opts['faults']);
    if (!parsed.ok) throw new UserError(errorDiagnostic('bad-option', parsed.error));
    faults = opts['faults'];
  }
  const fps = number('fps', '--fps', 4);
  const options: EmulatorOptions = {
    dir,
    port: port(number('port', '--port', 0) ?? 0),
    ...defined('jobSeconds', number('jobSeconds', '--job-seconds', 0)),
    ...defined('latencyMs', number('latencyMs', '--latency-ms', 0)),
    ...defined('maxRunning', number('maxRunning', '--max-running', 1)),
    ...defined('rpm', number('rpm', '--rpm', 1)),
    ...defined('assetTtlSeconds', number('assetTtl', '--asset-ttl', 0)),
    ...defined('faults', faults),
    ...defined('endStatus', typeof opts['endStatus'] === 'string' ? opts['endStatus'] : undefined),
    ...defined('fps', fps),
    ...defined('apiKeyHeader', apiKeyHeader(opts['apiKeyHeader'])),
    ...defined('requireQuery', requireQuery(opts['requireQuery'])),
  };
  let emulator;
  try {
    emulator = await startEmulator(options);
  } catch (e: unknown) {
    const message = e instanceof Error ? e.message : String(e);
    throw new UserError(errorDiagnostic('emulator-start', `vidbuild emulator: ${message}`));
  }
  process.stdout.write(`vidbuild emulator listening on ${emulator.baseURL} (state in ${dir})\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emulator.stop();
  return 0;
}

function port(p: number): number {
  if (!Number.isInteger(p) || p > 65535) throw new UserError(errorDiagnostic('bad-option', `--port must be a whole number from 0 to 65535 (got ${p})`));
  return p;
}

function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  const out: { [P in K]?: V } = {};
  if (value !== undefined) out[key] = value;
  return out;
}

function apiKeyHeader(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const problem = typeof v === 'string' ? apiKeyHeaderProblem(v) : 'is missing';
  if (problem !== undefined) throw new UserError(errorDiagnostic('bad-option', `--api-key-header ${String(v)} ${problem}`));
  return String(v);
}

/** `--require-query api-version=preview other=1` → { 'api-version': 'preview', other: '1' }. */
function requireQuery(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const item of Array.isArray(v) ? v : [v]) {
    const text = String(item);
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UserError(errorDiagnostic('bad-option', `--require-query takes name=value (got ${JSON.stringify(text)})`));
    out[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return out;
}
