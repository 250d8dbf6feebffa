// The CNI plugin executable (installed by the agent as /opt/cni/bin/kube-iaas-eni, a wrapper that runs
// this file with Node). Imports only src/node: no Kubernetes client, no AWS SDK, so start-up stays short.
import { readFileSync } from 'node:fs';
import { CNI_VERSION, CniError, ErrorCode, SUPPORTED_VERSIONS, errorObject, parseConf, parseEnv, type PluginConf } from './cni.ts';
import { addTimings, cmdAdd, cmdCheck, cmdDel, cmdStatus } from './commands.ts';

async function main(): Promise<number> {
  const t0 = performance.now();
  let version = CNI_VERSION;
  let command = process.env['CNI_COMMAND'] ?? '';
  try {
    const env = parseEnv(process.env);
    command = env.command;
    if (env.command === 'VERSION') {
      process.stdout.write(JSON.stringify({ cniVersion: CNI_VERSION, supportedVersions: SUPPORTED_VERSIONS }) + '\n');
      return 0;
    }
    const conf: PluginConf = parseConf(readFileSync(0, 'utf8'));
    version = conf.cniVersion;
    switch (env.command) {
      case 'ADD':
        process.stdout.write(JSON.stringify(await cmdAdd(env, conf)) + '\n');
        break;
      case 'DEL':
        cmdDel(env, conf);
        break;
      case 'CHECK':
        cmdCheck(env, conf);
        break;
      case 'STATUS':
        await cmdStatus(conf);
        break;
      case 'GC':
        // Attachments are undone by DEL; nothing is kept that GC would have to sweep besides state records.
        break;
    }
    return 0;
  } catch (err) {
    const e = err instanceof CniError ? err : new CniError(ErrorCode.ioFailure, (err as Error).message);
    process.stdout.write(JSON.stringify(errorObject(version, e)) + '\n');
    return 1;
  } finally {
    // The runtime reads only stdout; the run time goes to stderr for the logs and the tests' p50/p99.
    const steps = Object.entries(addTimings).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
    process.stderr.write(`kube-iaas-eni ${command} took ${(performance.now() - t0).toFixed(1)} ms (process ${performance.now().toFixed(1)} ms${steps ? `; ${steps}` : ''})\n`);
  }
}

process.exitCode = await main();
