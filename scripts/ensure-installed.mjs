#!/usr/bin/env node
// Runs before every `npm start` and `npm test` (prestart/pretest), possibly before node_modules
// exists, so it is plain JavaScript for the machine's Node 20 and uses nothing but Node built-ins.
//
// Installs the locked dependencies with `npm ci` when node_modules is missing or stale, then checks
// that the Node from the npm package `node` (node_modules/.bin/node, first on PATH in npm scripts)
// is recent enough. A fast no-op when everything is in place. npm's EBADENGINE warnings of that first
// install (it runs on the machine's older Node) are summarised in one line (./npm-install-output.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { engineWarningFilter, npmCiArgs } from './npm-install-output.mjs';

const MIN_NODE_MAJOR = 22;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nodeModules = path.join(root, 'node_modules');
const lockFile = path.join(root, 'package-lock.json');
const hiddenLockFile = path.join(nodeModules, '.package-lock.json');
const localNode = path.join(nodeModules, '.bin', 'node');

function log(message) {
  console.error(`[ensure-installed] ${message}`);
}

function fail(message) {
  console.error(`\n[ensure-installed] ERROR: ${message}\n`);
  process.exit(1);
}

/** The packages recorded in a lockfile: install path -> "version resolved" (root entry excluded). */
function lockedPackages(file) {
  const packages = JSON.parse(readFileSync(file, 'utf8')).packages ?? {};
  const result = new Map();
  for (const [key, p] of Object.entries(packages)) {
    if (key === '') continue;
    result.set(key, { id: `${p.version ?? ''} ${p.resolved ?? ''} ${p.link ? 'link' : ''}`, optional: !!p.optional });
  }
  return result;
}

/** Why `npm ci` must run, or null when node_modules is up to date. */
function reasonToInstall() {
  if (!existsSync(lockFile)) fail(`${lockFile} is missing; it must be committed.`);
  if (!existsSync(nodeModules)) return 'node_modules is missing';
  if (!existsSync(hiddenLockFile)) return 'node_modules/.package-lock.json is missing (incomplete install)';
  if (!existsSync(localNode)) return 'node_modules/.bin/node is missing';
  if (statSync(lockFile).mtimeMs > statSync(hiddenLockFile).mtimeMs) {
    // A newer lockfile whose package set matches what is installed (e.g. a fresh checkout, a
    // touched file, or a change to the root entry only) needs no reinstall.
    try {
      const installed = lockedPackages(hiddenLockFile);
      const differing = [...lockedPackages(lockFile)]
        // Optional packages for other platforms (esbuild's, for example) are never installed.
        .filter(([key, p]) => !(p.optional && !installed.has(key)) && installed.get(key)?.id !== p.id)
        .map(([key]) => key);
      if (differing.length === 0) return null;
      return `package-lock.json is newer than node_modules (${differing.length} package(s) differ, e.g. ${differing[0]})`;
    } catch {
      return 'package-lock.json is newer than node_modules/.package-lock.json';
    }
  }
  return null;
}

/** PATH without any node_modules/.bin entries, so `npm ci` runs with the machine's own npm and node
 * (the local node binary is deleted and reinstalled by `npm ci`). */
function pathWithoutLocalBins() {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !dir.split(path.sep).includes('node_modules'))
    .join(path.delimiter);
}

/** `npm ci` with the machine's npm; its stderr shown line by line, EBADENGINE warnings summarised (./npm-install-output.mjs). */
function runNpmCi() {
  return new Promise((resolve) => {
    const child = spawn('npm', npmCiArgs(), {
      cwd: root,
      stdio: ['inherit', 'inherit', 'pipe'],
      env: { ...process.env, PATH: pathWithoutLocalBins() },
    });
    const filter = engineWarningFilter();
    const lines = createInterface({ input: child.stderr, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const shown = filter.push(line);
      if (shown !== null) process.stderr.write(`${shown}\n`);
    });
    const closed = new Promise((done) => lines.once('close', done));
    child.once('error', (error) => resolve({ error, status: null, signal: null }));
    child.once('close', async (status, signal) => {
      await closed;
      const summary = filter.summary();
      if (summary) log(summary);
      resolve({ error: null, status, signal });
    });
  });
}

const reason = reasonToInstall();
if (reason) {
  log(`running \`npm ci\` because ${reason}`);
  const result = await runNpmCi();
  if (result.error) fail(`could not run \`npm ci\`: ${result.error.message}`);
  if (result.status !== 0) {
    fail(`\`npm ci\` failed (${result.signal ? `signal ${result.signal}` : `exit code ${result.status}`}); see the output above.`);
  }
  if (!existsSync(localNode)) {
    fail('`npm ci` succeeded but node_modules/.bin/node is missing: the devDependency `node` must be in package.json.');
  }
}

const version = spawnSync(localNode, ['--version'], { encoding: 'utf8' });
if (version.error || version.status !== 0) {
  fail(`cannot run ${localNode} --version: ${version.error?.message ?? version.stderr}`);
}
const text = version.stdout.trim();
const major = Number(/^v(\d+)\./.exec(text)?.[1]);
if (!(major >= MIN_NODE_MAJOR)) {
  fail(
    `node_modules/.bin/node is ${text || 'of unknown version'}, but this project needs Node >= ${MIN_NODE_MAJOR} ` +
      '(vitest 5, MikroORM 7). Pin a recent `node` devDependency (e.g. node@24) and run `npm ci`.',
  );
}
if (reason) log(`dependencies installed; using Node ${text} from node_modules/.bin`);

// The dashboard (web/) is served from web/dist by the API server: build it when it is missing or
// older than its sources, with the Node and tools just checked.
const webDir = path.join(root, 'web');
const builtIndex = path.join(webDir, 'dist', 'index.html');

/** The newest file under the given paths (files or directories; tests aside), as [mtimeMs, path]. */
function newestSource(paths) {
  let newest = [0, ''];
  const visit = (p) => {
    if (!existsSync(p)) return;
    const info = statSync(p);
    if (info.isDirectory()) {
      for (const entry of readdirSync(p)) visit(path.join(p, entry));
    } else if (info.mtimeMs > newest[0] && !/\.test\.ts$/.test(p)) {
      newest = [info.mtimeMs, p];
    }
  };
  paths.forEach(visit);
  return newest;
}

function reasonToBuildWeb() {
  if (!existsSync(path.join(webDir, 'package.json')) || !existsSync(path.join(webDir, 'index.html'))) return null;
  if (!existsSync(builtIndex)) return 'web/dist/index.html is missing';
  // Everything the build reads: sources, static files, build configuration, and the schema its
  // GraphQL types are generated from.
  const inputs = ['src', 'public', 'index.html', 'vite.config.ts', 'svelte.config.js', 'codegen.ts', 'package.json'].map((p) => path.join(webDir, p));
  const [mtime, file] = newestSource([...inputs, path.join(root, 'schema', 'schema.graphql')]);
  if (mtime > statSync(builtIndex).mtimeMs) return `${path.relative(root, file)} is newer than web/dist/index.html`;
  return null;
}

const webReason = process.env.RELEARN_SKIP_WEB_BUILD === '1' ? null : reasonToBuildWeb();
if (webReason) {
  log(`building the dashboard (npm run build -w web) because ${webReason}`);
  const binDir = path.join(nodeModules, '.bin');
  const build = spawnSync('npm', ['run', 'build', '-w', 'web'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PATH: [binDir, process.env.PATH ?? ''].join(path.delimiter) },
  });
  if (build.error) fail(`could not run the dashboard build: ${build.error.message}`);
  if (build.status !== 0) fail('the dashboard build (npm run build -w web) failed; see the output above.');
}
