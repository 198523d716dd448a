// Reading an import file into records with their line numbers: JSON Lines (one user per line), CSV
// with a header (arrays and objects as JSON in their cell; roles also as "a,b"), or a JSON array
// (the admin API). A line that is not JSON is that record's error; a CSV that cannot be read at all
// (an unclosed quote, an unknown column) is the file's. Messages never quote a record's content: a
// password hash must not reach a report or a log.
import { parse as parseCsvText } from 'csv-parse/sync';
import { badRequest } from '../errors/app-error.ts';
import { RECORD_FIELDS } from './record.schema.ts';

export type FileFormat = 'jsonl' | 'csv' | 'json';
export const FILE_FORMATS: readonly FileFormat[] = ['jsonl', 'csv', 'json'];

/** One record as read: where it starts in the file, and its value or why it could not be read. */
export interface SourceRecord { line: number; value?: unknown; error?: string }

/** By the file's name, else by its first character. */
export function detectFormat(text: string, fileName?: string): FileFormat {
  const lower = fileName?.toLowerCase() ?? '';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  if (first === '[') return 'json';
  if (first === '{' || first === undefined) return 'jsonl';
  return 'csv';
}

export function parseRecords(text: string, format: FileFormat): SourceRecord[] {
  const body = text.replace(/^\uFEFF/, '');
  if (format === 'csv') return parseCsv(body);
  if (format === 'json') return parseJsonArray(body);
  return parseJsonLines(body);
}

export function parseJsonLines(text: string): SourceRecord[] {
  const records: SourceRecord[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    try {
      records.push({ line: i + 1, value: JSON.parse(line) });
    } catch {
      records.push({ line: i + 1, error: 'not valid JSON (each line must be one JSON object)' });
    }
  });
  return records;
}

/** A JSON array of records; `line` is the record's position (1 = first). */
export function parseJsonArray(text: string): SourceRecord[] {
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { throw badRequest('The body is not valid JSON: send a JSON array of users, or JSON Lines.', 'invalid_file'); }
  if (!Array.isArray(parsed)) throw badRequest('Send a JSON array of users, or JSON Lines.', 'invalid_file');
  return parsed.map((value, i) => ({ line: i + 1, value }));
}

const BOOLEAN_COLUMNS = new Set(['email_verified', 'disabled']);
const JSON_COLUMNS = new Set(['workspaces', 'identities']);

function cell(column: string, raw: string): unknown {
  if (BOOLEAN_COLUMNS.has(column)) {
    const v = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 't'].includes(v)) return true;
    if (['false', '0', 'no', 'f'].includes(v)) return false;
    return raw; // the schema says what is wrong
  }
  if (JSON_COLUMNS.has(column) || (column === 'roles' && raw.trim().startsWith('['))) {
    try { return JSON.parse(raw); } catch { throw new Error(`${column}: not valid JSON`); }
  }
  if (column === 'roles') return raw.split(/[,\s]+/).filter(Boolean);
  return raw;
}

export function parseCsv(text: string): SourceRecord[] {
  let rows: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    rows = parseCsvText(text, { columns: true, info: true, skip_empty_lines: true, trim: false, relax_quotes: false });
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    throw badRequest(`The CSV file cannot be read${line ? ` at line ${line}` : ''}: ${(e as Error).message.split(':')[0]}.`, 'invalid_file');
  }
  const columns = rows[0] ? Object.keys(rows[0].record) : [];
  const unknown = columns.filter((c) => !(RECORD_FIELDS as string[]).includes(c));
  if (unknown.length) throw badRequest(`Unknown CSV column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `"${c}"`).join(', ')}: the columns are ${RECORD_FIELDS.join(', ')}.`, 'invalid_file');
  return rows.map(({ record, info }) => {
    try {
      const value: Record<string, unknown> = {};
      for (const [column, raw] of Object.entries(record)) if (raw !== '') value[column] = cell(column, raw);
      return { line: info.lines, value };
    } catch (e) {
      return { line: info.lines, error: (e as Error).message };
    }
  });
}

/** CSV's quoting (RFC 4180): a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const s = typeof value === 'string' ? value : Array.isArray(value) || typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
