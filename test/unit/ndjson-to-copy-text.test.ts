// The restore's fast path into COPY text hands PostgreSQL exactly the values the general path
// does, and takes the fast path for plain lines. Same bytes, except a Float not written as
// JavaScript writes it (`0.10`): the fast path keeps its digits, which read to the same double.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyLineOf, ndjsonToCopyLines } from '../../src/engine/postgres/ndjson-to-copy-text.ts';
import type { ColumnSpec, ScalarType } from '../../src/target/target-schema.ts';
import type { EncodedValue } from '../../src/ndjson/value-encoder.ts';

const column = (name: string, type: ScalarType, list = false): ColumnSpec => ({ name, type, list, nullable: true, nativeType: null });
const COLUMNS: ColumnSpec[] = [
  column('s', 'String'),
  column('i', 'Int'),
  column('f', 'Float'),
  column('b', 'Boolean'),
  column('d', 'DateTime'),
  column('big', 'BigInt'),
  column('dec', 'Decimal'),
  column('j', 'Json'),
  column('bytes', 'Bytes'),
  column('e', 'Enum'),
  column('tags', 'String', true),
];

function generalPath(columns: ColumnSpec[], lines: string[]): string {
  return lines.map((line) => copyLineOf(columns, JSON.parse(line) as EncodedValue[])).join('');
}

/** Float fields as the doubles PostgreSQL reads from them; every other field as its text. */
function copyValues(columns: ColumnSpec[], text: string): unknown[][] {
  return text
    .split('\n')
    .map((line) => line.split('\t').map((field, i) => (columns[i]?.type === 'Float' && /^-?[0-9.]+$/.test(field) ? Number(field) : field)));
}

function assertSameAsGeneral(columns: ColumnSpec[], lines: string[]) {
  const fast = ndjsonToCopyLines(columns, Buffer.from(lines.map((line) => line + '\n').join('')));
  assert.deepEqual(copyValues(columns, fast.bytes.toString('utf8')), copyValues(columns, generalPath(columns, lines)));
  assert.equal(fast.rows, lines.length);
  return fast;
}

test('plain lines take the fast path and give the general path’s COPY text', () => {
  const lines = [
    '["Sci-Fi 🎬 Señor",42,1.5,true,"2026-04-26T03:00:00.000Z","9223372036854775807","12.500","{}",null,"MOVIE",null]',
    '[null,null,null,null,null,null,null,null,null,null,null]',
    '["",-7,-0.25,false,"0001-01-01T00:00:00.000Z","-1","0","[]",null,"SHOW",null]',
    '["tab-free, comma, ] [ and {\\"} are not here",0,0,true,"2026-04-26T03:00:00.123456Z","0","1e5","1",null,"A",null]'.replace(
      '{\\"}',
      '{}',
    ),
    '["x",2147483647,123456789.125,false,"9999-12-31T23:59:59.999Z","1","NaN","null",null,"B",null]',
  ];
  const fast = assertSameAsGeneral(COLUMNS, lines);
  assert.equal(fast.generalLines, 0);
  // A quoted value in a number column is checked by the general path: the words a Float may be, too.
  const words = ['["y",1,"NaN",true,"2026-01-01T00:00:00.000Z","2","3","true",null,"C",null]'];
  assert.equal(assertSameAsGeneral(COLUMNS, words).generalLines, 1);
  assert.equal(fast.bytes.toString('utf8'), generalPath(COLUMNS, lines), 'byte for byte');
  // Digits JavaScript would not write: the same double, so copied as they are.
  const unusual = [
    '["s",1,0.10,true,null,null,null,null,null,null,null]',
    '["s",1,123456789012345678901.5,true,null,null,null,null,null,null,null]',
  ];
  assert.equal(assertSameAsGeneral(COLUMNS, unusual).generalLines, 0);
});

test('escapes JSON shares with COPY, and lists of plain elements, stay on the fast path', () => {
  const cases = [
    '["quote \\" slash \\/ and backslash \\\\",1,1,true,null,null,null,null,null,null,null]',
    '["tab\\tnewline\\ncr\\r",1,1,true,null,null,null,"{\\"a\\": [1, \\"x\\"]}",null,null,null]',
    '["s",1,1,true,null,null,null,null,null,null,["a",null,"b c","{x}"]]',
    '["s",1,1,true,null,null,null,null,null,null,[]]',
  ];
  const numberLists = [column('ints', 'Int', true), column('floats', 'Float', true), column('flags', 'Boolean', true)];
  const lists = ['[[1,-2,null],[0.5,7],[true,false,null]]', '[[],[],[]]', '[null,null,null]'];
  assert.equal(assertSameAsGeneral(COLUMNS, cases).generalLines, 0);
  assert.equal(assertSameAsGeneral(numberLists, lists).generalLines, 0);
  assert.equal(
    ndjsonToCopyLines(COLUMNS, Buffer.from(cases.map((line) => line + '\n').join(''))).bytes.toString('utf8'),
    generalPath(COLUMNS, cases),
  );
});

test('every line the fast path cannot copy as it is takes the general path', () => {
  const cases = [
    '["\\u00e9\\ud83c\\udfac",1,1,true,null,null,null,null,null,null,null]', // \u escapes
    '["bell \\b feed \\f",1,1,true,null,null,null,null,null,null,null]',
    '["s",1,1,true,null,null,null,null,"AP8B",null,null]', // bytes
    '["s",1,1,true,null,null,null,null,null,null,["a \\" quote"]]', // an escape inside a list
    '["s",1,-0,true,null,null,null,null,null,null,null]', // negative zero
    '["s",1,-0.0,true,null,null,null,null,null,null,null]',
    '["s",1,1e21,true,null,null,null,null,null,null,null]', // exponent
    '["s",1,5e-324,true,null,null,null,null,null,null,null]',
    '["s",1.0,1,true,null,null,null,null,null,null,null]', // a fraction in an Int column
    '["s",1234567890123456,1,true,null,null,null,null,null,null,null]', // beyond 15 digits
    '[42,1,1,true,null,null,7,null,null,null,null]', // numbers where text belongs
    '["s",1,1,true,null,null,null,null,null,null]', // a column short
    '["s",1,1,true,null,null,null,null,null,null,null,null]', // a column over
    '[ "s", 1,1,true,null,null,null,null,null,null,null]', // whitespace
  ];
  for (const line of cases) {
    const fast = assertSameAsGeneral(COLUMNS, [line]);
    assert.equal(fast.generalLines, 1, line);
  }
  // A value of the wrong shape fails as it did before, on the general path.
  assert.throws(() => ndjsonToCopyLines(COLUMNS, Buffer.from('["s",1,1,true,null,null,null,null,null,null,"not a list"]\n')), TypeError);
  const nested = assertSameAsGeneral([column('ints', 'Int', true)], ['[[[1],[2]]]', '[[-0]]', '[[1.5]]']);
  assert.equal(nested.generalLines, 3);
  // Mixed in with plain lines, each line takes its own path.
  const plain = '["p",1,2.5,true,null,null,null,null,null,"A",["x"]]';
  const mixed = cases.flatMap((line) => [plain, line, plain]);
  assert.equal(assertSameAsGeneral(COLUMNS, mixed).generalLines, cases.length);
});

test('random rows agree byte for byte', () => {
  const alphabet = ['a', 'Z', ' ', ',', '[', ']', '"', '\\', '\t', '\n', '\r', '\u0001', '\b', '/', 'é', '€', '🎬', '\\N', '{"'];
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const text = () => Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const columns = [
    column('s', 'String'),
    column('i', 'Int'),
    column('f', 'Float'),
    column('b', 'Boolean'),
    column('t', 'String'),
    column('l', 'String', true),
    column('n', 'Float', true),
  ];
  const lines: string[] = [];
  for (let n = 0; n < 20_000; n++) {
    const row: EncodedValue[] = [
      random() < 0.1 ? null : text(),
      random() < 0.1 ? null : Math.floor((random() - 0.5) * 2 ** 32),
      random() < 0.1
        ? null
        : random() < 0.5
          ? (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20)
          : Math.round(random() * 100) / 4 - 10,
      random() < 0.1 ? null : random() < 0.5,
      random() < 0.5 ? `plain ${n}` : text(),
      random() < 0.1
        ? null
        : Array.from({ length: Math.floor(random() * 4) }, () => (random() < 0.2 ? null : random() < 0.7 ? `tag ${n % 7}` : text())),
      random() < 0.1
        ? null
        : Array.from({ length: Math.floor(random() * 4) }, () => (random() < 0.2 ? null : Math.round(random() * 1000) / 8 - 50)),
    ];
    lines.push(JSON.stringify(row));
  }
  const fast = assertSameAsGeneral(columns, lines);
  assert.equal(fast.bytes.toString('utf8'), generalPath(columns, lines), 'JavaScript wrote every number, so the text is the same too');
  assert.ok(fast.generalLines > 0 && fast.generalLines < lines.length);
});

test('invalid UTF-8 and invalid JSON are handled as the general path handles them', () => {
  const columns = [column('s', 'String')];
  const invalid = Buffer.concat([Buffer.from('["a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"]\n')]);
  const fast = ndjsonToCopyLines(columns, invalid);
  assert.equal(fast.bytes.toString('utf8'), copyLineOf(columns, JSON.parse(invalid.toString('utf8')) as EncodedValue[]));
  assert.throws(() => ndjsonToCopyLines(columns, Buffer.from('["a" oops]\n')), SyntaxError);
  assert.throws(() => ndjsonToCopyLines(columns, Buffer.from('["no newline"]')), /whole lines/);
});

test('a SQLite value kept with its stored form goes to PostgreSQL as its value, `v`', () => {
  const columns = [column('d', 'DateTime'), column('n', 'Int'), column('f', 'Float')];
  const stored = ['[{"v":"2023-11-14T22:13:20.123Z","i":"1700000000123"},{"v":7,"t":"7"},"-0"]'];
  const plain = ['["2023-11-14T22:13:20.123Z",7,"-0"]'];
  const fast = ndjsonToCopyLines(columns, Buffer.from(stored[0] + '\n'));
  assert.equal(fast.bytes.toString('utf8'), generalPath(columns, plain));
  assert.equal(fast.bytes.toString('utf8'), '2023-11-14T22:13:20.123Z\t7\t-0\n');
});
