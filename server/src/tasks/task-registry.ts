import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTaskDefinition } from './task-definition.js';
import { Task } from './task.js';

export const builtInTaskDir = fileURLToPath(new URL('./definitions', import.meta.url));

async function taskFiles(path: string): Promise<string[]> {
  if ((await stat(path)).isDirectory()) {
    const names = (await readdir(path)).filter((n) => extname(n) === '.json').sort();
    return names.map((n) => join(path, n));
  }
  return [path];
}

/** The tasks this deployment serves, by name. */
export class TaskRegistry {
  private readonly byName: Map<string, Task>;

  constructor(tasks: Task[]) {
    this.byName = new Map(tasks.map((t) => [t.name, t]));
  }

  static async load(extraPaths: string[] = []): Promise<TaskRegistry> {
    const files = [];
    for (const path of [builtInTaskDir, ...extraPaths]) files.push(...(await taskFiles(path)));
    const tasks: Task[] = [];
    for (const file of files) {
      const task = new Task(await readTaskDefinition(file));
      const clash = tasks.find((t) => t.name === task.name || t.definition.inputType === task.definition.inputType);
      if (clash) throw new Error(`task file ${file}: name or input type clashes with ${clash.definition.file}`);
      tasks.push(task);
    }
    return new TaskRegistry(tasks);
  }

  get(name: string): Task | undefined {
    return this.byName.get(name);
  }

  all(): Task[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
