import { join } from 'node:path';
import { writeCallReport } from './calls.ts';
import { repoRoot, stateDir } from './paths.ts';
import { down, isRunning, up } from './testbed.ts';

/**
 * Starts the testbed once for the whole integration run, or reuses one that is already up
 * (`npm run testbed -- up` beforehand keeps it between runs). A testbed this setup started is
 * stopped at the end unless KUBE_IAAS_KEEP_TESTBED=1. Either way, the AWS calls each operator's IAM user
 * made go to `reports/aws-calls.json` first, for `npm run check:iam`.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const startedHere = !isRunning();
  await up((line) => console.log(`[testbed] ${line}`));
  return async () => {
    writeCallReport(stateDir(), join(repoRoot(), 'reports', 'aws-calls.json'));
    if (startedHere && process.env.KUBE_IAAS_KEEP_TESTBED !== '1') await down((line) => console.log(`[testbed] ${line}`));
  };
}
