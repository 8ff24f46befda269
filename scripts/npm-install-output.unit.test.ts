import { describe, expect, it } from 'vitest';
import { engineWarningFilter, npmCiArgs } from './npm-install-output.mjs';

// npm 11's EBADENGINE warning for one package, as printed on Node 20.
const engineWarning = (pkg: string) => [
  'npm warn EBADENGINE Unsupported engine {',
  `npm warn EBADENGINE   package: '${pkg}',`,
  "npm warn EBADENGINE   required: { node: '>=22.12.0' },",
  "npm warn EBADENGINE   current: { node: 'v20.20.2', npm: '11.19.1' }",
  'npm warn EBADENGINE }',
];

describe('the first install (scripts/ensure-installed.mjs)', () => {
  it('runs npm ci without audit and funding notices, and without hiding output through the log level', () => {
    expect(npmCiArgs()).toEqual(['ci', '--no-audit', '--no-fund']);
    expect(npmCiArgs().some((arg) => arg.startsWith('--loglevel') || arg === '--silent')).toBe(false);
  });

  it('drops only the EBADENGINE warnings, and says once what they were', () => {
    const sut = engineWarningFilter('v20.20.2');
    const stderr = [
      ...engineWarning('vitest@5.1.1'),
      'npm warn deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported',
      ...engineWarning('@mikro-orm/core@7.0.1'),
      'npm error code ENOTFOUND',
      'npm error network request to https://registry.npmjs.org/x failed',
    ];
    expect(stderr.map((line) => sut.push(line)).filter((line) => line !== null)).toEqual([
      'npm warn deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported',
      'npm error code ENOTFOUND',
      'npm error network request to https://registry.npmjs.org/x failed',
    ]);
    expect(sut.summary()).toMatch(/^2 package\(s\) declare a newer Node than this machine's v20\.20\.2/);
  });

  it('says nothing more when there was no such warning', () => {
    const sut = engineWarningFilter('v24.21.0');
    expect(sut.push('added 700 packages in 20s')).toBe('added 700 packages in 20s');
    expect(sut.summary()).toBeNull();
  });
});
