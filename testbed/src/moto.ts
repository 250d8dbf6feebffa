import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from './paths.ts';

/** The AWS emulator, pinned so every machine serves the same API behaviour. */
export const MOTO_VERSION = '5.2.5';

function venvDir(): string {
  return join(cacheRoot(), `moto-${MOTO_VERSION}`);
}

export function motoServerBin(): string {
  return join(venvDir(), 'bin', 'moto_server');
}

function run(cmd: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const collect = (b: Buffer) => {
      out += b.toString();
      out = out.slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) return resolve();
      log(out);
      reject(new Error(`${cmd} ${args.join(' ')} failed with exit ${code}:\n${out.split('\n').slice(-15).join('\n')}`));
    });
  });
}

/** A virtualenv with moto's server in the shared cache, created on first use. */
export async function ensureMoto(log: (line: string) => void): Promise<string> {
  const bin = motoServerBin();
  if (existsSync(bin)) return bin;
  const python = process.env.PYTHON ?? 'python3';
  log(`installing moto ${MOTO_VERSION} into ${venvDir()} (first time only)`);
  const started = Date.now();
  await run(python, ['-m', 'venv', venvDir()], log);
  const pip = join(venvDir(), 'bin', 'pip');
  await run(pip, ['install', '--disable-pip-version-check', '--quiet', `moto[server]==${MOTO_VERSION}`], log);
  if (!existsSync(bin)) throw new Error(`moto installed but ${bin} is missing`);
  log(`moto ready in ${Math.round((Date.now() - started) / 1000)}s`);
  return bin;
}
