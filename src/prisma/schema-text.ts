// Schemas written for Prisma 5 and 6 made acceptable to Prisma 7's parser, which refuses
// connection URLs in a datasource and preview features it no longer knows.

/** Refused by Prisma 7 in schema files; the target's database is always TARGET_DATABASE_URL. */
const CONNECTION_PROPERTIES = new Set(['url', 'directUrl', 'shadowDatabaseUrl']);

/**
 * Preview features that allow more in a schema than Prisma 7 does without them. Every
 * other one only changes the generated client, or is generally available by now.
 */
const SCHEMA_PREVIEW_FEATURES = new Set(['views', 'postgresqlExtensions', 'partialIndexes', 'shardKeys']);

interface Token {
  kind: 'word' | 'string' | 'symbol';
  text: string;
  start: number;
  end: number;
}

interface Block {
  keyword: string;
  name: string;
  /** Tokens between the braces, exclusive. */
  body: Token[];
}

interface Property {
  key: Token;
  /** The value's tokens: one, a call with its arguments, or a bracketed list. */
  value: Token[];
}

/**
 * The schema text with the datasource's `url`, `directUrl` and `shadowDatabaseUrl` and the
 * generators' client-only preview features blanked out. Everything else, comments and
 * line breaks included, stays where it was, so the parser's line numbers are the file's.
 */
export function cleanSchemaText(text: string): string {
  const edits: { start: number; end: number }[] = [];
  for (const block of blocks(tokenize(text))) {
    if (block.keyword === 'datasource') {
      for (const { key, value } of properties(block.body)) {
        if (CONNECTION_PROPERTIES.has(key.text)) edits.push({ start: key.start, end: value.at(-1)!.end });
      }
    }
    if (block.keyword === 'generator') {
      for (const { key, value } of properties(block.body)) {
        if (key.text === 'previewFeatures') edits.push(...droppedFeatures(key, value));
      }
    }
  }
  let cleaned = text;
  for (const { start, end } of edits) {
    cleaned = cleaned.slice(0, start) + cleaned.slice(start, end).replace(/[^\r\n]/g, ' ') + cleaned.slice(end);
  }
  return cleaned;
}

/** The names of the schema's `view` blocks: they hold no data of their own. */
export function viewNames(text: string): string[] {
  return blocks(tokenize(text))
    .filter((block) => block.keyword === 'view')
    .map((block) => block.name);
}

/** What to blank in `previewFeatures = [...]`: the whole property, or the dropped names and surplus commas. */
function droppedFeatures(key: Token, value: Token[]): { start: number; end: number }[] {
  if (value[0]?.text !== '[') return [];
  const inner = value.slice(1, -1);
  const kept = inner.filter((token) => token.kind === 'string' && SCHEMA_PREVIEW_FEATURES.has(token.text.slice(1, -1)));
  if (kept.length === 0) return [{ start: key.start, end: value.at(-1)!.end }];
  // One comma after each kept name but the last; everything else in the brackets goes.
  const keptCommas = kept.slice(0, -1).map((token) => inner.slice(inner.indexOf(token)).find((t) => t.text === ','));
  return inner.filter((token) => !kept.includes(token) && !keptCommas.includes(token)).map(({ start, end }) => ({ start, end }));
}

/** Top-level blocks: `keyword name { ... }`. */
function blocks(tokens: Token[]): Block[] {
  const found: Block[] = [];
  let i = 0;
  while (i < tokens.length) {
    const [keyword, name, open] = [tokens[i]!, tokens[i + 1], tokens[i + 2]];
    if (keyword.kind !== 'word' || name?.kind !== 'word' || open?.text !== '{') {
      i += 1;
      continue;
    }
    const close = closing(tokens, i + 2);
    found.push({ keyword: keyword.text, name: name.text, body: tokens.slice(i + 3, close) });
    i = close + 1;
  }
  return found;
}

/** `key = value` pairs in a datasource or generator block. */
function properties(body: Token[]): Property[] {
  const found: Property[] = [];
  let i = 0;
  while (i < body.length) {
    const key = body[i]!;
    if (key.kind !== 'word' || body[i + 1]?.text !== '=' || i + 2 >= body.length) {
      i += 1;
      continue;
    }
    let end = i + 3;
    if (['[', '('].includes(body[i + 2]!.text)) end = closing(body, i + 2) + 1;
    else if (body[i + 3]?.text === '(') end = closing(body, i + 3) + 1;
    found.push({ key, value: body.slice(i + 2, Math.min(end, body.length)) });
    i = end;
  }
  return found;
}

/** The index of the bracket that closes the one at `open` (the last token when none does). */
function closing(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const text = tokens[i]!.text;
    if (tokens[i]!.kind !== 'symbol') continue;
    if (text === '{' || text === '[' || text === '(') depth += 1;
    else if (text === '}' || text === ']' || text === ')') depth -= 1;
    if (depth === 0) return i;
  }
  return tokens.length - 1;
}

const WORD = /[\w.-]+/y;

/** Words, strings and single-character symbols; `//` comments and whitespace are skipped. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i += 1;
    } else if (text.startsWith('//', i)) {
      const newline = text.indexOf('\n', i);
      i = newline === -1 ? text.length : newline;
    } else if (ch === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"' && text[end] !== '\n') end += text[end] === '\\' ? 2 : 1;
      end = Math.min(end + 1, text.length);
      tokens.push({ kind: 'string', text: text.slice(i, end), start: i, end });
      i = end;
    } else if (/[\w.-]/.test(ch)) {
      WORD.lastIndex = i;
      const end = i + WORD.exec(text)![0].length;
      tokens.push({ kind: 'word', text: text.slice(i, end), start: i, end });
      i = end;
    } else {
      tokens.push({ kind: 'symbol', text: ch, start: i, end: i + 1 });
      i += 1;
    }
  }
  return tokens;
}
