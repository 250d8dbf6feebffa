// Pure parsers for the values of annotations on native objects (the AWS Load Balancer Controller's
// formats, shared by every operator that reads them). Each returns the value or a message that the
// caller prefixes with the annotation's name, so the Warning Event names the annotation.

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export const parsedOk = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const parsedFail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** `a, b ,c` → ['a', 'b', 'c']; empty items dropped. */
export function parseList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * `k1=v1,k2=v2` → { k1: 'v1', k2: 'v2' } (the format of attributes, tags and node labels). Values may
 * be empty (`k=`); a key without `=` or a repeated key is an error.
 */
export function parseKeyValues(raw: string): Parsed<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const item of parseList(raw)) {
    const eq = item.indexOf('=');
    if (eq <= 0) return parsedFail(`malformed item ${JSON.stringify(item)}: expected key=value pairs separated by commas`);
    const key = item.slice(0, eq).trim();
    if (key in out) return parsedFail(`key ${JSON.stringify(key)} is given twice`);
    out[key] = item.slice(eq + 1).trim();
  }
  return parsedOk(out);
}

/** A whole number (seconds, ports, counts); negative ones only where the caller allows them (orders). */
export function parseInteger(raw: string, opts: { allowNegative?: boolean } = {}): Parsed<number> {
  const t = raw.trim();
  if (!(opts.allowNegative ? /^-?\d+$/ : /^\d+$/).test(t)) return parsedFail(`${JSON.stringify(raw)} is not a whole number`);
  return parsedOk(Number(t));
}

/** `true` / `false` (any case). */
export function parseBoolean(raw: string): Parsed<boolean> {
  const t = raw.trim().toLowerCase();
  if (t === 'true') return parsedOk(true);
  if (t === 'false') return parsedOk(false);
  return parsedFail(`${JSON.stringify(raw)} is not true or false`);
}

/** A parser accepting one of `values` (after `transform`, e.g. lower-casing). */
export function parseEnum<T extends string>(values: readonly T[], transform: (s: string) => string = (s) => s) {
  return (raw: string): Parsed<T> => {
    const v = transform(raw.trim());
    return (values as readonly string[]).includes(v) ? parsedOk(v as T) : parsedFail(`unsupported value ${JSON.stringify(raw)}: expected one of ${values.join(', ')}`);
  };
}
