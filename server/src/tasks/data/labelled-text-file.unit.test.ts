import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabelledFileError, loadLabelledTextFile, parseCsv } from './labelled-text-file.js';

const SAMPLE = fileURLToPath(new URL('./samples/threats.jsonl', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relearn-labelled-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content, 'utf8');
  return p;
}

/** The error thrown by `promise`, which must reject with a LabelledFileError. */
async function failure(promise: Promise<unknown>): Promise<LabelledFileError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LabelledFileError);
  return err as LabelledFileError;
}

describe('sample threat corpus', () => {
  it('loads 60 balanced, distinct messages', async () => {
    const rows = await loadLabelledTextFile(SAMPLE);
    expect(rows).toHaveLength(60);
    expect(rows.filter((r) => r.label === 'threat')).toHaveLength(30);
    expect(rows.filter((r) => r.label === 'benign')).toHaveLength(30);
    expect(new Set(rows.map((r) => r.input.text)).size).toBe(60);
    expect(rows[0]!.source).toBe('threats.jsonl');
  });
});

describe('CSV', () => {
  it('handles quoting: embedded commas, quotes, newlines, CRLF, BOM, blank lines', async () => {
    const csv =
      '\uFEFFid,text,label\r\n' +
      '1,plain,ham\r\n' +
      '2,"a, b and c",spam\r\n' +
      '3,"she said ""hi""",ham\r\n' +
      '4,"line one\r\nline two\nline three",spam\r\n' +
      '\r\n' +
      '5,,ham\r\n' +
      '6,"",  spam  \r\n' +
      '7,  spaced text  ,ham'; // no trailing newline
    const rows = await loadLabelledTextFile(await write('edge.csv', csv));
    expect(rows.map((r) => [r.input.text, r.label])).toEqual([
      ['plain', 'ham'],
      ['a, b and c', 'spam'],
      ['she said "hi"', 'ham'],
      ['line one\r\nline two\nline three', 'spam'],
      ['', 'ham'],
      ['', 'spam'],
      ['  spaced text  ', 'ham'],
    ]);
    expect(rows[0]!.source).toBe('edge.csv');
  });

  it('reports line numbers that account for multi-line fields', () => {
    const records = parseCsv('text,label\n"a\nb\nc",x\nd,y\n');
    expect(records.map((r) => r.line)).toEqual([1, 2, 5]);
  });

  it('supports custom column names and ignores other columns', async () => {
    const p = await write('custom.csv', 'Message , extra,Class\nhello,1,ok\n"x,y",2,bad\n');
    const rows = await loadLabelledTextFile(p, { textField: 'Message', labelField: 'Class' });
    expect(rows.map((r) => [r.input.text, r.label])).toEqual([
      ['hello', 'ok'],
      ['x,y', 'bad'],
    ]);
  });

  it('returns no rows for a header-only file', async () => {
    expect(await loadLabelledTextFile(await write('header-only.csv', 'text,label\n'))).toEqual([]);
  });

  const bad: [string, string, number | undefined, RegExp][] = [
    ['empty file', '', undefined, /empty file/],
    ['missing column', 'body,label\nx,y\n', 1, /no "text" column/],
    ['duplicate column', 'text,label,text\nx,y,z\n', 1, /more than one "text"/],
    ['too few fields', 'text,label\nok,ham\nonly-one\n', 3, /expected 2 fields, got 1/],
    ['too many fields', 'text,label\nok,ham\n"a\nb",ham,extra\n', 3, /expected 2 fields, got 3/],
    ['unterminated quote', 'text,label\nok,ham\n"never closed,ham\nmore\n', 3, /unterminated/],
    ['stray quote', 'text,label\nsay "hi",ham\n', 2, /quote inside an unquoted field/],
    ['text after closing quote', 'text,label\n"a"b,ham\n', 2, /after closing quote/],
    ['empty label', 'text,label\n"a\nb", \n', 2, /empty "label"/],
  ];
  it.each(bad)('rejects %s with file and line', async (_name, content, line, message) => {
    const p = await write('bad.csv', content);
    const err = await failure(loadLabelledTextFile(p));
    expect(err.file).toBe(p);
    expect(err.line).toBe(line);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(line === undefined ? `${p}: ` : `${p}:${line}: `)).toBe(true);
  });
});

describe('JSONL', () => {
  it('reads objects, skips blank lines, handles CRLF and stringifies scalar labels', async () => {
    const p = await write(
      'ok.jsonl',
      '{"text":"a","label":"x","other":1}\r\n\n   \n{"text":"b\\nc","label":1}\n{"text":"d","label":true}\n',
    );
    const rows = await loadLabelledTextFile(p);
    expect(rows.map((r) => [r.input.text, r.label])).toEqual([
      ['a', 'x'],
      ['b\nc', '1'],
      ['d', 'true'],
    ]);
  });

  it('supports custom field names and the .ndjson extension', async () => {
    const p = await write('custom.ndjson', '{"body":"hi","y":"greeting"}\n');
    expect(await loadLabelledTextFile(p, { textField: 'body', labelField: 'y' })).toEqual([
      { input: { text: 'hi' }, label: 'greeting', source: 'custom.ndjson' },
    ]);
  });

  const bad: [string, string, number, RegExp][] = [
    ['invalid JSON', '{"text":"a","label":"x"}\n{"text": "b", label: "y"}\n', 2, /invalid JSON/],
    ['non-object', '{"text":"a","label":"x"}\n\n["b","y"]\n', 3, /expected a JSON object/],
    ['missing text', '{"label":"x"}\n', 1, /"text" must be a string, got nothing/],
    ['non-string text', '{"text":5,"label":"x"}\n', 1, /"text" must be a string, got number/],
    ['null label', '{"text":"a","label":null}\n', 1, /"label" must be .* got null/],
    ['empty label', '{"text":"a","label":"  "}\n', 1, /empty "label"/],
  ];
  it.each(bad)('rejects %s with file and line', async (_name, content, line, message) => {
    const p = await write('bad.jsonl', content);
    const err = await failure(loadLabelledTextFile(p));
    expect(err.line).toBe(line);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`${p}:${line}: `)).toBe(true);
  });
});

it('rejects unsupported extensions', async () => {
  const p = await write('data.txt', 'whatever');
  expect((await failure(loadLabelledTextFile(p))).message).toMatch(/unsupported extension ".txt"/);
});
