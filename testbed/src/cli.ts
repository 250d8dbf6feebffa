#!/usr/bin/env node
import { down, envExports, readState, statusReport, up, isRunning } from './testbed.ts';

const usage = 'usage: npm run testbed -- up | down | status | env';
const cmd = process.argv[2];

try {
  switch (cmd) {
    case 'up':
      await up();
      break;
    case 'down':
      await down();
      break;
    case 'status': {
      console.log(statusReport());
      process.exitCode = isRunning() ? 0 : 1;
      break;
    }
    case 'env': {
      const s = readState();
      if (!s) {
        console.error('testbed is not running; start it with: npm run testbed -- up');
        process.exitCode = 1;
      } else console.log(envExports(s));
      break;
    }
    default:
      console.error(usage);
      process.exitCode = 2;
  }
} catch (err) {
  console.error(`testbed ${cmd}: ${(err as Error).message}`);
  process.exitCode = 1;
}
