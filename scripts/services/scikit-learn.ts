// scikit-learn for the parity tests and `npm run bench:quality`: installed from PyPI into its own
// virtual environment in the cache directory (as MLflow is), so the reference the models are
// compared with is a pinned release, not whatever a machine happens to have.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir, runCommand, runInstallStep, withLock, type Log } from './background-process.js';

export const SCIKIT_LEARN_VERSION = '1.9.1';
const PACKAGES = [`scikit-learn==${SCIKIT_LEARN_VERSION}`];
const INSTALL_TIMEOUT_MS = 20 * 60_000;

const defaultLog: Log = (msg) => console.error(`[scikit-learn] ${msg}`);

export function scikitLearnVenvDir(): string {
  return path.join(cacheDir(), `scikit-learn-${SCIKIT_LEARN_VERSION}`);
}

async function venvWorks(python: string): Promise<boolean> {
  if (!existsSync(python)) return false;
  const result = await runCommand(python, ['-c', 'import sklearn; print(sklearn.__version__)'], { timeoutMs: 120_000 }).catch(() => null);
  return result?.code === 0 && result.stdout.trim() === SCIKIT_LEARN_VERSION;
}

/** The `python` of a venv with scikit-learn SCIKIT_LEARN_VERSION, created first when missing or broken. */
export async function ensureScikitLearnInstalled(log: Log = defaultLog): Promise<string> {
  const venv = scikitLearnVenvDir();
  const python = path.join(venv, 'bin', 'python');
  if (await venvWorks(python)) return python;
  return withLock(`${venv}.lock`, 'installing scikit-learn', log, INSTALL_TIMEOUT_MS, async () => {
    if (await venvWorks(python)) return python;
    const logFile = path.join(cacheDir(), `scikit-learn-${SCIKIT_LEARN_VERSION}-install.log`);
    await rm(venv, { recursive: true, force: true });
    log(`installing scikit-learn ${SCIKIT_LEARN_VERSION} into ${venv} (once per machine; log ${logFile})`);
    await runInstallStep('python venv', 'python3', ['-m', 'venv', venv], { logFile, log });
    await runInstallStep(
      `pip install ${PACKAGES.join(' ')}`,
      path.join(venv, 'bin', 'pip'),
      ['install', '--disable-pip-version-check', '--progress-bar', 'off', ...PACKAGES],
      {
        logFile,
        log,
      },
    );
    if (!(await venvWorks(python))) throw new Error(`scikit-learn was installed into ${venv} but \`import sklearn\` fails (log ${logFile})`);
    return python;
  });
}

/**
 * Runs a Python script with scikit-learn, `input` as JSON on stdin, and parses its stdout as JSON.
 * Large payloads go through stdin rather than argv (no length limit).
 */
export async function runScikitLearn<T>(script: string, input: unknown, log: Log = defaultLog): Promise<T> {
  const python = await ensureScikitLearnInstalled(log);
  const { spawn } = await import('node:child_process');
  return new Promise<T>((resolve, reject) => {
    const child = spawn(python, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`python exited with ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(out) as T);
      } catch (error) {
        reject(new Error(`python printed no JSON: ${out.slice(0, 200)} ${err.slice(-500)}`, { cause: error }));
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}
