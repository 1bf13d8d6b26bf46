import { err, ok, type Result } from '../core/result.js';

/**
 * Seeded fault injection. Every `/v1` request draws from one PRNG, so a run
 * with the same seed and the same request sequence meets the same faults.
 *
 * A `5xx` or `reset` on a request that changes state (POST, DELETE) lands
 * either before the server acts (nothing was created) or after (the job
 * exists but the client never hears its id): both happen in the real world,
 * and a client that retries blindly pays twice in the second case.
 */
export interface FaultConfig {
  readonly seed: number;
  readonly rate429: number;
  readonly rate5xx: number;
  readonly rateReset: number;
  readonly rateTruncate: number;
  readonly rateSlow: number;
  /** How long a `slow` fault stalls the response. */
  readonly slowMs: number;
}

export type FaultsInput = Partial<Record<'seed' | '429' | '5xx' | 'reset' | 'truncate' | 'slow' | 'slowMs', number>>;

export type Fault =
  | { readonly kind: 'none' }
  | { readonly kind: '429'; readonly retryAfterMs: number }
  | { readonly kind: '5xx'; readonly status: 500 | 502 | 503; readonly when: 'before' | 'after' }
  | { readonly kind: 'reset'; readonly when: 'before' | 'after' }
  | { readonly kind: 'truncate' }
  | { readonly kind: 'slow'; readonly ms: number };

const KEYS = ['seed', '429', '5xx', 'reset', 'truncate', 'slow', 'slowMs'] as const;

export function parseFaults(input: string | FaultsInput): Result<FaultConfig, string> {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch {
      return err(`--faults must be a JSON object, e.g. {"seed":7,"429":0.2} (got ${input})`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return err('faults must be a JSON object');
  const values = new Map<string, number>();
  for (const [k, v] of Object.entries(raw)) {
    const known = KEYS.find((x) => x === k);
    if (known === undefined) return err(`faults: unknown key "${k}" (expected one of ${KEYS.join(', ')})`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return err(`faults: "${k}" must be a number ≥ 0`);
    if (k !== 'seed' && k !== 'slowMs' && v > 1) return err(`faults: "${k}" is a probability and must be ≤ 1`);
    values.set(k, v);
  }
  const cfg: FaultConfig = {
    seed: values.get('seed') ?? 1,
    rate429: values.get('429') ?? 0,
    rate5xx: values.get('5xx') ?? 0,
    rateReset: values.get('reset') ?? 0,
    rateTruncate: values.get('truncate') ?? 0,
    rateSlow: values.get('slow') ?? 0,
    slowMs: values.get('slowMs') ?? 1500,
  };
  const total = cfg.rate429 + cfg.rate5xx + cfg.rateReset + cfg.rateTruncate + cfg.rateSlow;
  if (total > 1) return err(`faults: probabilities add up to ${total}, more than 1`);
  return ok(cfg);
}

/** mulberry32: tiny, fast, good enough to make fault sequences reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  readonly #cfg: FaultConfig;
  readonly #random: () => number;

  constructor(cfg: FaultConfig) {
    this.#cfg = cfg;
    this.#random = mulberry32(cfg.seed);
  }

  /** Draws the fault for one request. `truncate` only exists for downloads. */
  next(isDownload: boolean): Fault {
    const c = this.#cfg;
    const r = this.#random();
    const side = this.#random();
    let edge = c.rate429;
    if (r < edge) return { kind: '429', retryAfterMs: 100 + Math.floor(side * 400) };
    edge += c.rate5xx;
    if (r < edge) {
      const status = side < 0.4 ? 500 : side < 0.7 ? 502 : 503;
      return { kind: '5xx', status, when: this.#random() < 0.5 ? 'before' : 'after' };
    }
    edge += c.rateReset;
    if (r < edge) return { kind: 'reset', when: side < 0.5 ? 'before' : 'after' };
    edge += c.rateTruncate;
    if (r < edge) return isDownload ? { kind: 'truncate' } : { kind: 'none' };
    edge += c.rateSlow;
    if (r < edge) return { kind: 'slow', ms: c.slowMs };
    return { kind: 'none' };
  }
}
