/**
 * `npm run check:cycles`: no import cycle among the server's modules, type-only imports counted
 * (tsPreCompilationDeps), so a cycle cannot hide behind `import type`.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules depend on each other in one direction: move shared types to a leaf module, or publish an event.',
      from: { path: '^server/src' },
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
  },
};
