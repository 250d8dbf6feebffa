// Pure parsers for annotation values. Each returns the parsed value or an error message that the
// caller prefixes with the annotation's name.

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** `a, b ,c` → ['a', 'b', 'c']; empty items dropped. */
export function parseList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * `k1=v1,k2=v2` → { k1: 'v1', k2: 'v2' } (the AWS Load Balancer Controller's format for attributes,
 * tags and node labels). Values may be empty (`k=`); a key without `=` or a repeated key is an error.
 */
export function parseKeyValues(raw: string): Parsed<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const item of parseList(raw)) {
    const eq = item.indexOf('=');
    if (eq <= 0) return fail(`malformed item ${JSON.stringify(item)}: expected key=value pairs separated by commas`);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key in out) return fail(`key ${JSON.stringify(key)} is given twice`);
    out[key] = value;
  }
  return ok(out);
}

/** A whole number of seconds, ports or counts. */
export function parseInteger(raw: string): Parsed<number> {
  const t = raw.trim();
  if (!/^\d+$/.test(t)) return fail(`${JSON.stringify(raw)} is not a whole number`);
  return ok(Number(t));
}

/** `true` / `false` (any case). */
export function parseBoolean(raw: string): Parsed<boolean> {
  const t = raw.trim().toLowerCase();
  if (t === 'true') return ok(true);
  if (t === 'false') return ok(false);
  return fail(`${JSON.stringify(raw)} is not true or false`);
}
