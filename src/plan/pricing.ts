import { readFileSync } from 'node:fs';
import { packagePath } from '../core/package-paths.js';

/**
 * The dated price table (data/pricing.json): USD per second of output, by
 * model and size. Prices change without code changes, so the table is data and
 * every estimate says which date it used.
 */
export interface PriceTable {
  readonly date: string;
  readonly currency: string;
  readonly perSecond: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** Parses the JSON shape of data/pricing.json; throws on a malformed table (a packaging bug, not user input). */
export function parsePriceTable(json: unknown): PriceTable {
  if (typeof json !== 'object' || json === null) throw new Error('pricing.json: not an object');
  const date = Reflect.get(json, 'date');
  const currency = Reflect.get(json, 'currency');
  const perSecond = Reflect.get(json, 'perSecond');
  if (typeof date !== 'string' || typeof perSecond !== 'object' || perSecond === null) {
    throw new Error('pricing.json: needs date and perSecond');
  }
  const models = new Map<string, ReadonlyMap<string, number>>();
  for (const [model, sizes] of Object.entries(perSecond)) {
    if (typeof sizes !== 'object' || sizes === null) throw new Error(`pricing.json: bad row ${model}`);
    const row = new Map<string, number>();
    for (const [size, price] of Object.entries(sizes)) {
      if (typeof price !== 'number' || !(price >= 0)) throw new Error(`pricing.json: bad price ${model} ${size}`);
      row.set(size, price);
    }
    models.set(model, row);
  }
  return { date, currency: typeof currency === 'string' ? currency : 'USD', perSecond: models };
}

let loaded: PriceTable | undefined;

/** The shipped table, read once on first use (it is immutable package data, so caching it is safe). */
export function defaultPriceTable(): PriceTable {
  loaded ??= parsePriceTable(JSON.parse(readFileSync(packagePath('data', 'pricing.json'), 'utf8')));
  return loaded;
}

/** Date of the shipped price table (YYYY-MM-DD). */
export function priceTableDate(): string {
  return defaultPriceTable().date;
}

/** A dated snapshot such as `sora-2-2025-10-06` is priced like its base model. */
const SNAPSHOT_SUFFIX = /-\d{4}-\d{2}-\d{2}$/;

/** USD per second for model/size, or undefined when the table does not know the pair. */
export function pricePerSecond(model: string, size: string, table: PriceTable = defaultPriceTable()): number | undefined {
  const row = table.perSecond.get(model) ?? table.perSecond.get(model.replace(SNAPSHOT_SUFFIX, ''));
  return row?.get(size);
}

/**
 * Estimated USD for `seconds` of output. Unknown model/size pairs cost 0 here;
 * callers that must flag them use `pricePerSecond` to tell "free" from "unknown".
 */
export function estimateCost(model: string, size: string, seconds: number, table: PriceTable = defaultPriceTable()): number {
  const price = pricePerSecond(model, size, table);
  return price === undefined ? 0 : roundCents(price * seconds);
}

/** Money is shown in cents; rounding here keeps sums free of float noise like 0.30000000000000004. */
export function roundCents(usd: number): number {
  return Math.round(usd * 100) / 100;
}

/**
 * The shipped table with the manifest's `pricing:` over it, row by row: a
 * manifest price for sora-2 at 1920x1080 adds that size and keeps the
 * shipped sizes of sora-2. The date stays the shipped table's.
 */
export function withPriceOverrides(
  table: PriceTable,
  overrides: Readonly<Record<string, Readonly<Record<string, number>>>>,
): PriceTable {
  if (Object.keys(overrides).length === 0) return table;
  const perSecond = new Map(table.perSecond);
  for (const [model, sizes] of Object.entries(overrides)) {
    const row = new Map(perSecond.get(model) ?? []);
    for (const [size, price] of Object.entries(sizes)) row.set(size, price);
    perSecond.set(model, row);
  }
  return { ...table, perSecond };
}
