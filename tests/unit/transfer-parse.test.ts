// Reading import files (issue 15): formats, line numbers, CSV cells, and the record schema's words.
import { describe, expect, it } from '@jest/globals';
import { csvField, detectFormat, parseCsv, parseJsonLines, parseRecords } from '../../src/transfer/parse.ts';
import { describeIssues, importRecordSchema, RECORD_FIELDS } from '../../src/transfer/record.schema.ts';

describe('import files', () => {
  it('tells the format by name, else by the first character', () => {
    expect(detectFormat('{"email":1}', 'users.csv')).toBe('csv');
    expect(detectFormat('email\n', 'users.ndjson')).toBe('jsonl');
    expect(detectFormat('\uFEFF  [{"email":"a"}]')).toBe('json');
    expect(detectFormat('{"email":"a"}')).toBe('jsonl');
    expect(detectFormat('email,name\n')).toBe('csv');
  });

  it('JSON Lines: each record keeps its line number (blank lines count, CRLF too); a broken line is that record\'s error', () => {
    const records = parseJsonLines('{"email":"a@x.io"}\r\n\r\n{"email":\n{"email":"b@x.io"}\n');
    expect(records).toEqual([
      { line: 1, value: { email: 'a@x.io' } },
      { line: 3, error: 'not valid JSON (each line must be one JSON object)' },
      { line: 4, value: { email: 'b@x.io' } },
    ]);
  });

  it('CSV: empty cells are absent, booleans, roles as a list or JSON, workspaces as JSON; a quoted line break keeps later line numbers right', () => {
    const csv = 'email,name,email_verified,roles,workspaces\n'
      + 'a@x.io,"Two\nLines",true,"admin, support",\n'
      + 'b@x.io,,0,"[""x""]","[{""slug"":""acme"",""role"":""owner""}]"\n'
      + 'c@x.io,,,,{oops\n';
    expect(parseCsv(csv)).toEqual([
      { line: 3, value: { email: 'a@x.io', name: 'Two\nLines', email_verified: true, roles: ['admin', 'support'] } },
      { line: 4, value: { email: 'b@x.io', email_verified: false, roles: ['x'], workspaces: [{ slug: 'acme', role: 'owner' }] } },
      { line: 5, error: 'workspaces: not valid JSON' },
    ]);
    expect(() => parseCsv('email,pasword\na@x.io,x\n')).toThrow(/Unknown CSV column "pasword"/);
    expect(() => parseCsv('email\n"unclosed\n')).toThrow(/cannot be read/);
  });

  it('what export writes in CSV reads back the same', () => {
    const record = { email: 'a@x.io', name: 'with, comma', given_name: 'with "quotes"', family_name: 'two\nlines', locale: ' padded ', roles: ['a', 'b'], workspaces: [{ slug: 'acme', name: 'A, "B"' }] };
    const [row] = parseCsv(`${Object.keys(record).join(',')}\n${Object.values(record).map(csvField).join(',')}\n`);
    expect(row!.value).toEqual(record);
    expect(csvField(null)).toBe('');
    expect(csvField(true)).toBe('true');
  });

  it('a JSON array (the admin API): a record\'s line is its position', () => {
    expect(parseRecords('[{"email":"a@x.io"},{"email":"b@x.io"}]', 'json').map((r) => r.line)).toEqual([1, 2]);
    expect(() => parseRecords('{"email":"a@x.io"}', 'json')).toThrow(/JSON array/);
  });
});

describe('the record', () => {
  const problem = (value: unknown) => {
    const r = importRecordSchema.safeParse(value);
    return r.success ? undefined : describeIssues(r.error);
  };

  it('names unknown fields, missing ones and bad values in words', () => {
    expect(problem({ email: 'a@x.io', email_verifed: true, pass: 1 })).toBe('unknown fields "email_verifed", "pass"');
    expect(problem({ name: 'x' })).toBe('email: is required');
    expect(problem({ email: 'a@x.io', id: '12' })).toBe('id: must be a UUID');
    expect(problem({ email: 'a@x.io', workspaces: [{ slug: 'acme', role: 'boss' }] })).toBe('workspaces.0.role: role must be one of owner, admin, member');
    expect(problem({ email: 'a@x.io', totp_secret: 'not base32!' })).toMatch(/^totp_secret: totp_secret must be base32/);
    expect(problem({ email: 'a@x.io', created_at: 'yesterday' })).toMatch(/^created_at: /);
  });

  it('normalises what has one form: ids lower-case, TOTP secrets without spaces, a Keycloak credential object as its JSON', () => {
    const r = importRecordSchema.parse({
      email: 'a@x.io', id: 'ABCDEF01-2345-4678-9ABC-DEF012345678', totp_secret: 'jbsw y3dp ehpk 3pxp',
      password_hash: { credentialData: '{"hashIterations":27500,"algorithm":"pbkdf2-sha256"}', secretData: '{"value":"x","salt":"y"}' },
    });
    expect(r.id).toBe('abcdef01-2345-4678-9abc-def012345678');
    expect(r.totp_secret).toBe('JBSWY3DPEHPK3PXP');
    expect(JSON.parse(r.password_hash!)).toMatchObject({ credentialData: expect.any(String), secretData: expect.any(String) });
  });
});
