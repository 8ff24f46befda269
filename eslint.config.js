// `npm run lint` (with prettier --check and the import-cycle check, .dependency-cruiser.cjs).
// Type-aware rules only where they catch real bugs: a promise nobody awaits or catches (its
// rejection crashes the process or vanishes), and a promise where a plain value is expected (an
// async callback to an API that ignores its result). Formatting is prettier's (.prettierrc.json).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'web/dist/**', 'web/src/lib/graphql/generated/**', 'test-artifacts/**', 'data/**', '.services/**'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    languageOptions: {
      parser: tseslint.parser,
      // Each file is checked with the tsconfig.json nearest to it (the root one, web/tsconfig.json).
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
