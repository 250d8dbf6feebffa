// The command line of the all-in-one process, split into one command line per operator: pure, so
// the unit tests pin every rule without starting anything.

/** The operators this process can run, by their short name. */
export const OPERATOR_NAMES = ['eni', 'ingress', 'lb', 'scaler', 'volume'] as const;
export type OperatorName = (typeof OPERATOR_NAMES)[number];

export interface SplitArgv {
  /** The operators chosen by --operators (default: all five), in OPERATOR_NAMES order. */
  operators: OperatorName[];
  /** --metrics-bind-address: the one server of the process (default `:8080`). */
  metricsBindAddress: string;
  /** --kubeconfig, if given: the one client of the process. */
  kubeconfig: string | undefined;
  /** The flags each chosen operator is constructed with. */
  argv: Partial<Record<OperatorName, string[]>>;
  help: boolean;
  /** Each names the flag at fault; non-empty means the process must not start. */
  problems: string[];
}

/** Flags that would make the operators of one process collide when given to all of them. */
const PER_OPERATOR_ONLY = new Set(['leader-elect-id']);

function shortName(s: string): OperatorName | undefined {
  const n = s.trim().replace(/-operator$/, '');
  return (OPERATOR_NAMES as readonly string[]).includes(n) ? (n as OperatorName) : undefined;
}

/**
 * Rules: `--operators=lb,ingress` chooses (names with or without `-operator`); `--<op>.<flag>=v`
 * goes to that operator only, as `--<flag>=v`; any other flag goes to every chosen operator that
 * has it (the runtime flags: all of them) and is an error when none has it. Values are written
 * `--flag=value` (booleans may be bare or `--no-flag`). `known` lists each operator's flag names,
 * runtime flags included.
 */
export function splitArgv(args: readonly string[], known: Record<OperatorName, ReadonlySet<string>>): SplitArgv {
  const problems: string[] = [];
  let operators: OperatorName[] = [...OPERATOR_NAMES];
  let metricsBindAddress = ':8080';
  let kubeconfig: string | undefined;
  let help = false;
  const pending: { arg: string; only?: OperatorName }[] = [];
  for (const arg of args) {
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument ${JSON.stringify(arg)} (flags look like --name=value)`);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const value = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (name === 'operators') {
      const names = (value ?? '').split(',').filter((s) => s.trim());
      const bad = names.filter((n) => !shortName(n));
      if (bad.length || !names.length) {
        problems.push(`--operators=${value ?? ''}: choose from ${OPERATOR_NAMES.join(', ')} (comma-separated)`);
        continue;
      }
      const chosen = new Set(names.map((n) => shortName(n)!));
      operators = OPERATOR_NAMES.filter((n) => chosen.has(n));
      continue;
    }
    if (name === 'metrics-bind-address') {
      if (value === undefined) problems.push('--metrics-bind-address needs a value (--metrics-bind-address=host:port)');
      else metricsBindAddress = value;
      continue;
    }
    const dot = name.indexOf('.');
    if (dot > 0) {
      const only = shortName(name.slice(0, dot));
      if (!only) {
        problems.push(`--${name}: ${name.slice(0, dot)} is not an operator (${OPERATOR_NAMES.join(', ')})`);
        continue;
      }
      pending.push({ arg: `--${arg.slice(3 + dot)}`, only });
      continue;
    }
    if (name === 'kubeconfig' && value !== undefined) kubeconfig = value;
    if (PER_OPERATOR_ONLY.has(name)) {
      problems.push(`--${name} would give every operator the same value; give it per operator, e.g. --lb.${name}=…`);
      continue;
    }
    pending.push({ arg });
  }
  const argv: Partial<Record<OperatorName, string[]>> = {};
  for (const op of operators) argv[op] = [];
  for (const { arg, only } of pending) {
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const has = (op: OperatorName) => known[op].has(name) || (eq < 0 && name.startsWith('no-') && known[op].has(name.slice(3)));
    if (only) {
      if (!operators.includes(only)) problems.push(`${arg.replace(/^--/, `--${only}.`)}: ${only} is not among --operators`);
      else if (!has(only) && name !== 'help') problems.push(`--${only}.${name}: unknown flag of the ${only} operator`);
      else argv[only]!.push(arg);
      continue;
    }
    const takers = operators.filter(has);
    if (!takers.length) problems.push(`unknown flag --${name} (none of ${operators.join(', ')} has it)`);
    for (const op of takers) argv[op]!.push(arg);
  }
  return { operators, metricsBindAddress, kubeconfig, argv, help, problems };
}
