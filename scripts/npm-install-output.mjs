// How scripts/ensure-installed.mjs runs `npm ci` and what of its output it shows. Plain JavaScript
// with Node built-ins only: it runs on the machine's Node (possibly 20) before node_modules exists.
//
// On the first install npm runs on the machine's Node, which may be older than what some packages
// declare in `engines` (vitest, MikroORM, the `node` package's own tools...). npm then prints five
// `npm warn EBADENGINE` lines per package (~65 in all), which a newcomer takes for a failure; those
// packages never run on that Node: every npm script puts node_modules/.bin/node (Node 24) first.
// Only those warnings are dropped, and replaced by one line; every other warning and error is shown.

/** The arguments of the install. */
export function npmCiArgs() {
  return ['ci', '--no-audit', '--no-fund'];
}

const ENGINE_WARNING = /^npm (?:warn|WARN) EBADENGINE\b/;
const ENGINE_PACKAGE = /^npm (?:warn|WARN) EBADENGINE\s+package: '([^']+)'/;

/**
 * A line filter for npm's stderr: push() each line, get back the line to print or null (an
 * EBADENGINE warning); summary() is the line that stands for the dropped ones (null if none).
 */
export function engineWarningFilter(machineNode = process.version) {
  const packages = new Set();
  let dropped = 0;
  return {
    push(line) {
      if (!ENGINE_WARNING.test(line)) return line;
      dropped += 1;
      const match = ENGINE_PACKAGE.exec(line);
      if (match) packages.add(match[1]);
      return null;
    },
    summary() {
      if (dropped === 0) return null;
      const count = packages.size || 'some';
      return (
        `${count} package(s) declare a newer Node than this machine's ${machineNode} (npm's EBADENGINE warnings, not shown); ` +
        "they run on the project's own Node from node_modules/.bin, installed by this step."
      );
    },
  };
}
