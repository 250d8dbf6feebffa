import { parseBindAddress } from './server.ts';

/**
 * A small typed flag + environment parser. Each flag is declared once with its type, default,
 * environment variable(s) and description; `parseConfig` reads `--name=value` / `--name value` /
 * `--flag` / `--no-flag` from argv, then the environment, then the default, validates everything
 * and throws one `ConfigError` listing every problem with the flag or variable it came from.
 */

interface FlagBase<V> {
  description: string;
  /** Environment variable(s) read when the flag is not given; default UPPER_SNAKE of the name; false for none. */
  env?: string | readonly string[] | false;
  default?: V;
  required?: boolean;
  /** Extra check; return a message saying what is wrong. */
  validate?: (value: V) => string | undefined;
}
export interface StringFlag extends FlagBase<string> {
  type: 'string';
  choices?: readonly string[];
  pattern?: RegExp;
}
export interface IntFlag extends FlagBase<number> {
  type: 'int';
  min?: number;
  max?: number;
}
export interface NumberFlag extends FlagBase<number> {
  type: 'number';
  min?: number;
  max?: number;
}
export interface BoolFlag extends FlagBase<boolean> {
  type: 'bool';
}
/** Go-style duration (`500ms`, `30s`, `5m`, `1h30m`, `0`); the value is milliseconds. */
export interface DurationFlag extends FlagBase<number> {
  type: 'duration';
  min?: number;
  max?: number;
}
/** Comma-separated list. */
export interface ListFlag extends FlagBase<string[]> {
  type: 'list';
}
export type FlagSpec = StringFlag | IntFlag | NumberFlag | BoolFlag | DurationFlag | ListFlag;
export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<F extends FlagSpec> = F extends StringFlag
  ? string
  : F extends IntFlag | NumberFlag | DurationFlag
    ? number
    : F extends BoolFlag
      ? boolean
      : F extends ListFlag
        ? string[]
        : never;
type CamelCase<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;
type HasValue<F> = F extends { default: unknown } ? true : F extends { required: true } ? true : false;

/** The parsed configuration: kebab-case flag names become camelCase keys. */
export type ConfigOf<S extends FlagSpecs> = {
  -readonly [K in keyof S & string as CamelCase<K>]: HasValue<S[K]> extends true ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

/** Builders that keep each flag's literal type for `ConfigOf`. */
export const flag = {
  string: <const O extends Omit<StringFlag, 'type'>>(o: O): O & { type: 'string' } => ({ ...o, type: 'string' }),
  int: <const O extends Omit<IntFlag, 'type'>>(o: O): O & { type: 'int' } => ({ ...o, type: 'int' }),
  number: <const O extends Omit<NumberFlag, 'type'>>(o: O): O & { type: 'number' } => ({ ...o, type: 'number' }),
  bool: <const O extends Omit<BoolFlag, 'type'>>(o: O): O & { type: 'bool' } => ({ ...o, type: 'bool' }),
  duration: <const O extends Omit<DurationFlag, 'type'>>(o: O): O & { type: 'duration' } => ({ ...o, type: 'duration' }),
  list: <const O extends Omit<ListFlag, 'type'>>(o: O): O & { type: 'list' } => ({ ...o, type: 'list' }),
};

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Thrown by `parseConfig` for `--help`; its message is the usage text. */
export class HelpRequested extends Error {
  constructor(usage: string) {
    super(usage);
    this.name = 'HelpRequested';
  }
}

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function envNames(name: string, spec: FlagSpec): string[] {
  if (spec.env === false) return [];
  if (spec.env === undefined) return [name.toUpperCase().replace(/-/g, '_')];
  return typeof spec.env === 'string' ? [spec.env] : [...spec.env];
}

const DURATION = /^(?:(\d+(?:\.\d+)?)(ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `1h30m`, `45s`, `250ms`, `0`; returns ms or undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0') return 0;
  if (!DURATION.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(DURATION_PART)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Math.round(ms);
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function describeValue(spec: FlagSpec, v: unknown): string {
  if (spec.type === 'duration' && typeof v === 'number') return formatDuration(v);
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

function convert(spec: FlagSpec, raw: string): { value?: unknown; error?: string } {
  switch (spec.type) {
    case 'string': {
      if (spec.choices && !spec.choices.includes(raw)) return { error: `must be one of ${spec.choices.join(', ')}` };
      if (spec.pattern && !spec.pattern.test(raw)) return { error: `must match ${spec.pattern}` };
      return { value: raw };
    }
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) return { error: 'must be an integer' };
      const n = Number(raw);
      return rangeCheck(n, spec.min, spec.max, String) ?? { value: n };
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) return { error: 'must be a number' };
      return rangeCheck(n, spec.min, spec.max, String) ?? { value: n };
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return { value: true };
      if (['false', '0', 'no', 'off'].includes(v)) return { value: false };
      return { error: 'must be true or false' };
    }
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) return { error: 'must be a duration such as 500ms, 30s, 5m or 1h30m' };
      return rangeCheck(ms, spec.min, spec.max, formatDuration) ?? { value: ms };
    }
    case 'list':
      return {
        value: raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      };
  }
}

function rangeCheck(n: number, min: number | undefined, max: number | undefined, fmt: (n: number) => string): { error: string } | undefined {
  if (min !== undefined && n < min) return { error: `must be at least ${fmt(min)}` };
  if (max !== undefined && n > max) return { error: `must be at most ${fmt(max)}` };
  return undefined;
}

/**
 * Parses argv (without node and the script) and the environment against `specs`. Throws
 * `ConfigError` listing every problem, or `HelpRequested` for `--help` / `-h`.
 */
export function parseConfig<S extends FlagSpecs>(
  specs: S,
  argv: readonly string[] = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
  opts: { program?: string; check?: (cfg: ConfigOf<S>) => string[] } = {},
): ConfigOf<S> {
  const problems: string[] = [];
  const fromArgs = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') throw new HelpRequested(formatUsage(specs, opts.program));
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument ${JSON.stringify(arg)} (flags look like --name=value)`);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = specs[name];
    if (!spec && value === undefined && name.startsWith('no-') && specs[name.slice(3)]?.type === 'bool') {
      name = name.slice(3);
      spec = specs[name];
      value = 'false';
    }
    if (!spec) {
      problems.push(`unknown flag --${name}`);
      continue;
    }
    if (value === undefined) {
      if (spec.type === 'bool') value = 'true';
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i]!;
      else {
        problems.push(`--${name} needs a value`);
        continue;
      }
    }
    fromArgs.set(name, value);
  }

  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const envs = envNames(name, spec);
    let raw: string | undefined;
    let source = '';
    if (fromArgs.has(name)) {
      raw = fromArgs.get(name);
      source = `--${name}=${raw}`;
    } else {
      for (const e of envs) {
        const v = env[e];
        if (v !== undefined && v !== '') {
          raw = v;
          source = `${e}=${v} (environment)`;
          break;
        }
      }
    }
    const key = camelCase(name);
    if (raw === undefined) {
      if (spec.default !== undefined) out[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
      else if (spec.required) {
        const via = envs.length > 0 ? ` (or ${envs.join(' / ')})` : '';
        problems.push(`--${name}${via} is required: ${spec.description}`);
      } else out[key] = undefined;
      continue;
    }
    const r = convert(spec, raw);
    if (r.error !== undefined) {
      problems.push(`${source}: ${r.error}`);
      continue;
    }
    const custom = (spec.validate as ((v: unknown) => string | undefined) | undefined)?.(r.value);
    if (custom !== undefined) {
      problems.push(`${source}: ${custom}`);
      continue;
    }
    out[key] = r.value;
  }
  if (problems.length === 0 && opts.check) problems.push(...opts.check(out as ConfigOf<S>));
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

/** Usage text listing every flag with its type, environment variables and default. */
export function formatUsage(specs: FlagSpecs, program = 'operator'): string {
  const lines = [`Usage: ${program} [flags]`, '', 'Flags (each can also be set from the environment variable shown):'];
  for (const [name, spec] of Object.entries(specs)) {
    const envs = envNames(name, spec);
    const type = spec.type === 'bool' ? '' : ` <${spec.type}>`;
    const def = spec.default !== undefined ? ` (default ${describeValue(spec, spec.default) || '""'})` : spec.required ? ' (required)' : '';
    lines.push(`  --${name}${type}${envs.length ? `  [${envs.join(', ')}]` : ''}${def}`);
    lines.push(`      ${spec.description}${spec.type === 'string' && spec.choices ? ` One of: ${spec.choices.join(', ')}.` : ''}`);
  }
  return lines.join('\n');
}

/** Flags every kube-iaas operator has. */
export const runtimeFlags = {
  'cluster-name': flag.string({
    description: 'Name of the Kubernetes cluster; AWS resources are tagged kubernetes.io/cluster/<name>.',
    env: 'CLUSTER_NAME',
    required: true,
    pattern: /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/,
  }),
  namespace: flag.string({
    description: 'Watch only this namespace (default: all namespaces).',
    env: 'WATCH_NAMESPACE',
    default: '',
    validate: (v) => (v === '' || /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v) ? undefined : 'must be a namespace name (DNS label)'),
  }),
  kubeconfig: flag.string({
    description: 'Path to a kubeconfig; default: $KUBECONFIG, ~/.kube/config or the in-cluster service account.',
    env: 'KUBECONFIG',
  }),
  'metrics-bind-address': flag.string({
    description: 'Address of the /metrics, /healthz and /readyz endpoint: host:port, :port, or 0 to disable.',
    default: ':8080',
    validate: (v) => {
      try {
        parseBindAddress(v);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
  }),
  'log-level': flag.string({
    description: 'Log level.',
    env: 'LOG_LEVEL',
    default: 'info',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
  }),
  workers: flag.int({ description: 'Concurrent reconciles per controller.', default: 4, min: 1, max: 256 }),
  'resync-period': flag.duration({
    description: 'Re-reconcile every object this often even without changes (0 disables).',
    default: 600_000,
    min: 0,
  }),
  'backoff-base': flag.duration({ description: 'First retry delay after a failed reconcile.', default: 1_000, min: 1 }),
  'backoff-max': flag.duration({ description: 'Longest retry delay after repeated failures.', default: 300_000, min: 1 }),
  'retry-qps': flag.number({ description: 'Global rate of retries per controller (token bucket refill per second).', default: 10, min: 0.001 }),
  'retry-burst': flag.int({ description: 'Global retry burst per controller (token bucket size).', default: 100, min: 1 }),
  'shutdown-timeout': flag.duration({
    description: 'How long SIGTERM waits for reconciles in flight before releasing the lease and exiting.',
    default: 30_000,
    min: 0,
  }),
  'leader-elect': flag.bool({ description: 'Run reconcilers only on the replica holding the Lease.', default: true }),
  'leader-elect-id': flag.string({ description: 'Name of the Lease (default: the operator name).', default: '' }),
  'leader-elect-identity': flag.string({
    description: 'This replica\'s identity in the Lease (default: $POD_NAME or the host name, plus a random suffix).',
    default: '',
  }),
  'leader-elect-namespace': flag.string({
    description: 'Namespace of the Lease.',
    env: ['LEADER_ELECT_NAMESPACE', 'POD_NAMESPACE'],
    default: 'kube-system',
  }),
  'leader-elect-lease-duration': flag.duration({
    description: 'How long a standby waits after the last renewal it saw before taking over.',
    default: 15_000,
    min: 1_000,
  }),
  'leader-elect-renew-deadline': flag.duration({
    description: 'How long the leader retries renewing before it stops reconciling.',
    default: 10_000,
    min: 100,
  }),
  'leader-elect-retry-period': flag.duration({
    description: 'Interval between lease acquire / renew attempts.',
    default: 2_000,
    min: 50,
  }),
} as const;

export type RuntimeConfig = ConfigOf<typeof runtimeFlags>;

/** Cross-flag rules of the runtime flags. */
export function checkRuntimeConfig(c: RuntimeConfig): string[] {
  const p: string[] = [];
  if (c.backoffMax < c.backoffBase) {
    p.push(`--backoff-max (${formatDuration(c.backoffMax)}) must not be shorter than --backoff-base (${formatDuration(c.backoffBase)})`);
  }
  if (c.leaderElect) {
    if (!(c.leaderElectLeaseDuration > c.leaderElectRenewDeadline)) {
      p.push(
        `--leader-elect-lease-duration (${formatDuration(c.leaderElectLeaseDuration)}) must be longer than --leader-elect-renew-deadline (${formatDuration(c.leaderElectRenewDeadline)})`,
      );
    }
    if (!(c.leaderElectRenewDeadline > 1.2 * c.leaderElectRetryPeriod)) {
      p.push(
        `--leader-elect-renew-deadline (${formatDuration(c.leaderElectRenewDeadline)}) must be longer than 1.2 × --leader-elect-retry-period (${formatDuration(c.leaderElectRetryPeriod)})`,
      );
    }
  }
  return p;
}
