import { describe, expect, it } from 'vitest';
import { OPERATOR_NAMES, splitArgv, type OperatorName } from '../../src/argv.ts';

const runtime = ['cluster-name', 'kubeconfig', 'workers', 'leader-elect', 'leader-elect-id', 'metrics-bind-address'];
const own: Record<OperatorName, string[]> = {
  eni: ['warm-ip-target'],
  ingress: ['ingress-class'],
  lb: ['install-crds', 'default-scheme'],
  scaler: ['install-crds', 'scale-down-delay'],
  volume: ['install-crds'],
};
const known = Object.fromEntries(OPERATOR_NAMES.map((n) => [n, new Set([...runtime, ...own[n]])])) as Record<OperatorName, Set<string>>;

describe('splitArgv', () => {
  it('runs all five by default and gives runtime flags to each', () => {
    const s = splitArgv(['--cluster-name=c1', '--no-leader-elect'], known);
    expect(s.problems).toEqual([]);
    expect(s.operators).toEqual(['eni', 'ingress', 'lb', 'scaler', 'volume']);
    for (const op of s.operators) expect(s.argv[op]).toEqual(['--cluster-name=c1', '--no-leader-elect']);
    expect(s.metricsBindAddress).toBe(':8080');
  });

  it('chooses operators by short or package name, in a fixed order', () => {
    const s = splitArgv(['--operators=lb-operator,eni', '--metrics-bind-address=127.0.0.1:9090'], known);
    expect(s.operators).toEqual(['eni', 'lb']);
    expect(Object.keys(s.argv)).toEqual(['eni', 'lb']);
    expect(s.metricsBindAddress).toBe('127.0.0.1:9090');
  });

  it('sends an operator flag only to the operators that have it, and a prefixed one only to its operator', () => {
    const s = splitArgv(['--operators=lb,scaler,eni', '--install-crds=false', '--lb.workers=8', '--scale-down-delay=5m'], known);
    expect(s.problems).toEqual([]);
    expect(s.argv.lb).toEqual(['--install-crds=false', '--workers=8']);
    expect(s.argv.scaler).toEqual(['--install-crds=false', '--scale-down-delay=5m']);
    expect(s.argv.eni).toEqual([]);
  });

  it('names the flag at fault', () => {
    expect(splitArgv(['--operators=lb,dns'], known).problems).toEqual(['--operators=lb,dns: choose from eni, ingress, lb, scaler, volume (comma-separated)']);
    expect(splitArgv(['--bogus=1'], known).problems).toEqual(['unknown flag --bogus (none of eni, ingress, lb, scaler, volume has it)']);
    expect(splitArgv(['--operators=lb', '--ingress-class=alb'], known).problems).toEqual(['unknown flag --ingress-class (none of lb has it)']);
    expect(splitArgv(['--operators=lb', '--eni.warm-ip-target=2'], known).problems).toEqual(['--eni.warm-ip-target=2: eni is not among --operators']);
    expect(splitArgv(['--lb.ingress-class=x'], known).problems).toEqual(['--lb.ingress-class: unknown flag of the lb operator']);
    expect(splitArgv(['--dns.workers=1'], known).problems).toEqual(['--dns.workers: dns is not an operator (eni, ingress, lb, scaler, volume)']);
    expect(splitArgv(['lb'], known).problems).toEqual(['unexpected argument "lb" (flags look like --name=value)']);
  });

  it('refuses one Lease name for every operator but takes it per operator', () => {
    expect(splitArgv(['--leader-elect-id=x'], known).problems[0]).toMatch(/^--leader-elect-id would give every operator the same value/);
    const s = splitArgv(['--lb.leader-elect-id=lb-small'], known);
    expect(s.problems).toEqual([]);
    expect(s.argv.lb).toEqual(['--leader-elect-id=lb-small']);
  });

  it('keeps --kubeconfig for the one shared client and still hands it on', () => {
    const s = splitArgv(['--kubeconfig=/k', '--operators=lb'], known);
    expect(s.kubeconfig).toBe('/k');
    expect(s.argv.lb).toEqual(['--kubeconfig=/k']);
  });

  it('asks for help', () => {
    expect(splitArgv(['--help'], known).help).toBe(true);
  });
});
