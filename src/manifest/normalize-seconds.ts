/**
 * `seconds: "8"` means 8: the Videos API itself takes seconds as a string
 * ("4", "8", "12"), so manifests copied from its examples quote them. The
 * schema admits a quoted whole number wherever it admits seconds; this turns
 * every such string into its number before validation, so the rest of
 * vidbuild (and every fingerprint) sees one spelling. A string that is not a
 * plain whole number is left alone for the schema to refuse with its position.
 */
const SECONDS_TEXT = /^(?:[1-9][0-9]?|[1-5][0-9]{2}|600)$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toNumber(v: unknown): unknown {
  return typeof v === 'string' && SECONDS_TEXT.test(v) ? Number(v) : v;
}

function fixField(owner: unknown): void {
  if (isRecord(owner) && typeof owner['seconds'] === 'string') owner['seconds'] = toNumber(owner['seconds']);
}

/** Rewrites quoted seconds in place: `defaults`, every video, and provider capability lists. */
export function normalizeSeconds(data: unknown): void {
  if (!isRecord(data)) return;
  fixField(data['defaults']);
  const videos = data['videos'];
  if (isRecord(videos)) for (const v of Object.values(videos)) fixField(v);
  const provider = data['provider'];
  const caps = isRecord(provider) && isRecord(provider['capabilities']) ? provider['capabilities'] : undefined;
  const models = caps?.['models'];
  if (isRecord(models)) for (const row of Object.values(models)) fixList(row);
  fixList(caps?.['extension']);
}

function fixList(owner: unknown): void {
  const list = isRecord(owner) ? owner['seconds'] : undefined;
  if (Array.isArray(list)) list.forEach((s, i) => (list[i] = toNumber(s)));
}
