import { createHash } from 'node:crypto';

/**
 * AWS's tag limits, the same for EC2, ELBv2 and Auto Scaling (counted in Unicode characters). A create
 * call with one tag over them fails as a whole, so kube-iaas never sends one: values it computes are
 * shortened here, values a user wrote are refused with an error naming where they came from.
 */
export const TAG_KEY_MAX_LENGTH = 128;
export const TAG_VALUE_MAX_LENGTH = 256;

/**
 * Marks a shortened value. Kubernetes names and namespaces never contain `@` (DNS labels and subdomains),
 * so a value with it cannot be a real `namespace/name`; ELBv2 accepts `@` in tag values (its value
 * alphabet is letters, digits, spaces and `_ . : / = + - @`).
 */
const ABBREVIATION_MARK = '@';
const DIGEST_LENGTH = 16;
const ABBREVIATED = new RegExp(`${ABBREVIATION_MARK}[0-9a-f]{${DIGEST_LENGTH}}$`);

/** Characters of a string as AWS counts them (code points, not UTF-16 units). */
function chars(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * The value kube-iaas stores for a value it computes (`namespace/name` of an owner, an Ingress, a
 * Service...): unchanged up to 256 characters; longer, the first 239 characters, `@` and 16 hex digits
 * of the SHA-256 of the whole value (256 in all). Deterministic, so the tag builders and every filter or
 * matcher that looks the value up compute the same string; the digest keeps two long names that share
 * their first 239 characters apart. The original cannot be read back from it (see `isAbbreviatedTagValue`).
 */
export function boundedTagValue(value: string): string {
  if (chars(value) <= TAG_VALUE_MAX_LENGTH) return value;
  const digest = createHash('sha256').update(value).digest('hex').slice(0, DIGEST_LENGTH);
  const keep = [...value].slice(0, TAG_VALUE_MAX_LENGTH - 1 - DIGEST_LENGTH).join('');
  return `${keep}${ABBREVIATION_MARK}${digest}`;
}

/** True for a value `boundedTagValue` shortened: it no longer holds the whole name. */
export function isAbbreviatedTagValue(value: string | undefined): boolean {
  return value !== undefined && chars(value) === TAG_VALUE_MAX_LENGTH && ABBREVIATED.test(value);
}

/** A tag AWS would refuse, with what is wrong with it. */
export interface TagLimitProblem {
  key: string;
  message: string;
}

/** Every tag of `tags` over AWS's limits (empty keys included); empty when all fit. */
export function tagLimitProblems(tags: Readonly<Record<string, string>>): TagLimitProblem[] {
  const out: TagLimitProblem[] = [];
  for (const [key, value] of Object.entries(tags)) {
    const k = chars(key);
    if (k === 0) out.push({ key, message: 'tag key is empty' });
    else if (k > TAG_KEY_MAX_LENGTH) out.push({ key, message: `tag key ${JSON.stringify(key.slice(0, 40))}… is ${k} characters; AWS allows ${TAG_KEY_MAX_LENGTH}` });
    const v = chars(value);
    if (v > TAG_VALUE_MAX_LENGTH) out.push({ key, message: `value of tag ${key} is ${v} characters; AWS allows ${TAG_VALUE_MAX_LENGTH}` });
  }
  return out;
}

/**
 * A tag over AWS's limits in what kube-iaas was asked to write. Not an AWS error (no call was made);
 * terminal: the input has to change. `field` names where the tag came from (an annotation, `spec.tags`).
 */
export class TagLimitError extends Error {
  override readonly name = 'TagLimitError';
  readonly code = 'TagLimit';
  readonly kind = 'terminal';
  readonly field: string | undefined;
  readonly problems: TagLimitProblem[];

  constructor(problems: TagLimitProblem[], field?: string) {
    super(`${field ? `${field}: ` : ''}${problems.map((p) => p.message).join('; ')}`);
    this.field = field;
    this.problems = problems;
  }
}

/** Throws `TagLimitError` (naming `field`) when a tag is over AWS's limits. For tags a user wrote: they are refused, never cut. */
export function assertTagLimits(tags: Readonly<Record<string, string>>, field?: string): void {
  const problems = tagLimitProblems(tags);
  if (problems.length > 0) throw new TagLimitError(problems, field);
}
