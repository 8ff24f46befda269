import { readFileSync } from 'node:fs';

/** The version recorded with every dataset and model: package version plus git commit when known. */
export const CODE_VERSION: string = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const commit = process.env.RELEARN_GIT_COMMIT ?? readGitHead();
  return commit ? `${pkg.version}+${commit.slice(0, 12)}` : pkg.version;
})();

function readGitHead(): string | undefined {
  try {
    const gitDir = new URL('../../.git/', import.meta.url);
    const head = readFileSync(new URL('HEAD', gitDir), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    return readFileSync(new URL(head.slice(5), gitDir), 'utf8').trim();
  } catch {
    return undefined;
  }
}
