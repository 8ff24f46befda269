// What a V8 CPU profile (.cpuprofile) of a benchmarked server says: where the time went.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Self and inclusive time per function and self time per package of a V8 .cpuprofile. */
export function summarizeProfile(profile: {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const where = (url: string) => {
    if (!url) return '(native/gc/idle)';
    if (url.startsWith('node:')) return url;
    const nm = url.lastIndexOf('node_modules/');
    if (nm >= 0) {
      const rest = url.slice(nm + 13).split('/');
      return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    }
    return relative(process.cwd(), fileURLToPath(url.startsWith('file:') ? url : `file://${url}`));
  };
  const fnKey = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anonymous)'} ${where(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  };
  const self = new Map<string, number>();
  const pkgSelf = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const id = profile.samples[i]!;
    const f = byId.get(id)!.callFrame;
    total += dt;
    if (f.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const k = fnKey(id);
    self.set(k, (self.get(k) ?? 0) + dt);
    const p = f.functionName === '(garbage collector)' ? '(gc)' : where(f.url);
    pkgSelf.set(p, (pkgSelf.get(p) ?? 0) + dt);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const key = fnKey(n);
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + dt);
    }
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { totalMs: total, idleMs: idle, busyMs: total - idle, packages: top(pkgSelf, 15), self: top(self, 20), inclusive: top(incl, 40) };
}
