// Types of ./npm-install-output.mjs (plain JavaScript, run by the machine's Node before TypeScript tools exist).
export function npmCiArgs(): string[];
export function engineWarningFilter(machineNode?: string): { push(line: string): string | null; summary(): string | null };
