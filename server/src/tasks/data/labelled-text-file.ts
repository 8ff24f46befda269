/**
 * Loads a user-supplied labelled text corpus (e.g. for a threat-detection task) from
 *  - CSV (.csv): RFC 4180, header row naming the columns; quoted fields may contain commas,
 *    doubled quotes and line breaks; CRLF, LF or CR line endings; a UTF-8 BOM is ignored.
 *    Parsed here rather than with csv-parse: csv-parse 7 counts a CRLF inside a quoted field as
 *    two lines and reports an unterminated quote at the end of the file, so the line an error names
 *    would be wrong; the format is small.
 *  - JSONL (.jsonl, .ndjson): one JSON object per line.
 * Blank lines are skipped in both. Anything malformed throws a LabelledFileError naming the
 * file and the 1-based line (for CSV, the line on which the offending record starts).
 * Labels are trimmed (" spam" and "spam" are the same class); texts are kept verbatim.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { LabelledRow, TextInput } from './types.js';

export interface LabelledTextFileOptions {
  /** Column/property holding the text. Default "text". */
  textField?: string;
  /** Column/property holding the label. Default "label". */
  labelField?: string;
}

export class LabelledFileError extends Error {
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, line: number | undefined, message: string, options?: ErrorOptions) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${message}`, options);
    this.name = 'LabelledFileError';
    this.file = file;
    this.line = line;
  }
}

export interface CsvRecord {
  fields: string[];
  /** 1-based line on which the record starts. */
  line: number;
}

/** Syntax error from parseCsv; the loader turns it into a LabelledFileError naming the file. */
export class CsvSyntaxError extends Error {
  readonly line: number;
  readonly reason: string;

  constructor(line: number, reason: string) {
    super(`line ${line}: ${reason}`);
    this.name = 'CsvSyntaxError';
    this.line = line;
    this.reason = reason;
  }
}

/** RFC 4180 parser: records with the line each starts on. Throws CsvSyntaxError. */
export function parseCsv(content: string): CsvRecord[] {
  const s = content.charCodeAt(0) === 0xfeff ? content.slice(1) : content;
  const n = s.length;
  const records: CsvRecord[] = [];
  let i = 0;
  let line = 1;

  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let quoted = false;
    let endOfRecord = false;
    while (!endOfRecord) {
      let field: string;
      if (s[i] === '"') {
        quoted = true;
        // Quoted field: runs to the next quote not followed by another quote.
        const fieldLine = line;
        let value = '';
        let j = i + 1;
        for (;;) {
          const q = s.indexOf('"', j);
          if (q < 0) throw new CsvSyntaxError(fieldLine, 'unterminated quoted field (opened on this line)');
          const chunk = s.slice(j, q);
          value += chunk;
          line += countNewlines(chunk);
          if (s[q + 1] === '"') {
            value += '"';
            j = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        field = value;
        if (i < n && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') {
          throw new CsvSyntaxError(line, `unexpected character ${JSON.stringify(s[i])} after closing quote`);
        }
      } else {
        let j = i;
        while (j < n && s[j] !== ',' && s[j] !== '\n' && s[j] !== '\r') j++;
        field = s.slice(i, j);
        // RFC 4180: a field containing quotes must itself be quoted; a stray quote usually
        // means the file is broken, and guessing would silently merge or split rows.
        if (field.includes('"')) throw new CsvSyntaxError(line, 'quote inside an unquoted field');
        i = j;
      }
      fields.push(field);
      if (i >= n) {
        endOfRecord = true;
      } else if (s[i] === ',') {
        i++;
      } else {
        // \r\n, \n or a lone \r ends the record.
        i += s[i] === '\r' && s[i + 1] === '\n' ? 2 : 1;
        line++;
        endOfRecord = true;
      }
    }
    // A blank line parses as one empty unquoted field; skip it.
    if (quoted || fields.length > 1 || fields[0] !== '') {
      records.push({ fields, line: start });
    }
  }
  return records;
}

function countNewlines(chunk: string): number {
  // \r\n counts once; lone \r or \n count once each.
  let count = 0;
  for (let k = 0; k < chunk.length; k++) {
    const c = chunk.charCodeAt(k);
    if (c === 10) count++;
    else if (c === 13 && chunk.charCodeAt(k + 1) !== 10) count++;
  }
  return count;
}

const CSV_EXTENSIONS = new Set(['.csv']);
const JSONL_EXTENSIONS = new Set(['.jsonl', '.ndjson']);

/** Rows of a labelled CSV or JSONL file (format chosen by extension), in file order. */
export async function loadLabelledTextFile(
  path: string,
  opts: LabelledTextFileOptions = {},
): Promise<LabelledRow<TextInput>[]> {
  const textField = opts.textField ?? 'text';
  const labelField = opts.labelField ?? 'label';
  const ext = extname(path).toLowerCase();
  if (!CSV_EXTENSIONS.has(ext) && !JSONL_EXTENSIONS.has(ext)) {
    throw new LabelledFileError(path, undefined, `unsupported extension "${ext}"; expected .csv, .jsonl or .ndjson`);
  }
  const content = await readFile(path, 'utf8');
  const source = basename(path);
  return CSV_EXTENSIONS.has(ext)
    ? fromCsv(path, content, textField, labelField, source)
    : fromJsonl(path, content, textField, labelField, source);
}

function fromCsv(
  path: string,
  content: string,
  textField: string,
  labelField: string,
  source: string,
): LabelledRow<TextInput>[] {
  let records: CsvRecord[];
  try {
    records = parseCsv(content);
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new LabelledFileError(path, err.line, err.reason);
    throw err;
  }
  const [header, ...body] = records;
  if (!header) throw new LabelledFileError(path, undefined, 'empty file; expected a header row');
  const names = header.fields.map((f) => f.trim());
  const column = (name: string): number => {
    const idx = names.indexOf(name);
    if (idx < 0) {
      throw new LabelledFileError(path, header.line, `header has no "${name}" column (columns: ${names.join(', ')})`);
    }
    if (names.indexOf(name, idx + 1) >= 0) {
      throw new LabelledFileError(path, header.line, `header has more than one "${name}" column`);
    }
    return idx;
  };
  const textIdx = column(textField);
  const labelIdx = column(labelField);
  return body.map(({ fields, line }) => {
    if (fields.length !== names.length) {
      throw new LabelledFileError(path, line, `expected ${names.length} fields, got ${fields.length}`);
    }
    const label = fields[labelIdx]!.trim();
    if (label === '') throw new LabelledFileError(path, line, `empty "${labelField}"`);
    return { input: { text: fields[textIdx]! }, label, source };
  });
}

function fromJsonl(
  path: string,
  content: string,
  textField: string,
  labelField: string,
  source: string,
): LabelledRow<TextInput>[] {
  const lines = (content.charCodeAt(0) === 0xfeff ? content.slice(1) : content).split('\n');
  const rows: LabelledRow<TextInput>[] = [];
  lines.forEach((raw, k) => {
    const lineNo = k + 1;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new LabelledFileError(path, lineNo, `invalid JSON: ${(err as Error).message}`, { cause: err });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new LabelledFileError(path, lineNo, 'expected a JSON object');
    }
    const obj = value as Record<string, unknown>;
    const t = obj[textField];
    if (typeof t !== 'string') {
      throw new LabelledFileError(path, lineNo, `"${textField}" must be a string, got ${describe(t)}`);
    }
    const l = obj[labelField];
    // Numeric/boolean labels (0/1, true/false) are common in JSONL; a CSV would hold them as
    // strings anyway, so they become strings here too.
    if (typeof l !== 'string' && typeof l !== 'boolean' && !(typeof l === 'number' && Number.isFinite(l))) {
      throw new LabelledFileError(path, lineNo, `"${labelField}" must be a string, number or boolean, got ${describe(l)}`);
    }
    const label = String(l).trim();
    if (label === '') throw new LabelledFileError(path, lineNo, `empty "${labelField}"`);
    rows.push({ input: { text: t }, label, source });
  });
  return rows;
}

function describe(v: unknown): string {
  return v === undefined ? 'nothing' : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}
