import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import test from 'ava';
import { canonicalEscaped } from '../../src/codec/escaped-utf8.js';
import { PathTemplate, safeComponent } from '../../src/store/file/path-template.js';
import { logkit, tempDir } from '../helpers/logkit.js';

const HOSTILE_TAGS = [
  '..', '.', '../..', '../../../../etc/passwd', '/etc/passwd', '/', '//', 'a/../../b', '..\\..\\windows',
  'nul\0byte', 'new\nline', 'carriage\rreturn', '', '.hidden', '%2e%2e', 'a%2F..', '~', '${tag}', '%Y%m',
  'x'.repeat(5000), '\ud800lone', '🚀'.repeat(100),
];

test('a hostile tag is one harmless path component', (t) => {
  for (const tag of HOSTILE_TAGS) {
    const c = safeComponent(tag);
    t.false(c.includes('/') || c.includes('\\') || c.includes('\0') || c.includes('\n') || c.includes('\r'), JSON.stringify(tag));
    t.false(c === '.' || c === '..' || c.startsWith('.'), JSON.stringify(tag));
    t.true(c.length > 0 && Buffer.byteLength(c) <= 200, JSON.stringify(tag));
  }
  t.is(safeComponent('app.web-1_x'), 'app.web-1_x', 'ordinary tags are kept as they are');
  t.is(safeComponent('ünï.日本語'), 'ünï.日本語');
  t.is(safeComponent('../x'), '%2E.%2Fx');
  t.not(safeComponent('a/b'), safeComponent('a%2Fb'), '% is encoded too, so encodings do not collide');
  t.not(safeComponent('x'.repeat(300)), safeComponent('x'.repeat(301)), 'long tags keep distinct names (hash suffix)');
});

test('no tag renders a path outside the base directory, in any placeholder position', (t) => {
  const base = join('/tmp', 'logkit-store-base');
  for (const template of [`${base}/\${tag}/%Y/%H.ndjson`, `${base}/\${tag}`, `${base}/x-\${tag}-\${tag[1]}.log`, `${base}/\${tag[0]}/\${tag[2]}/f.gz`]) {
    const p = new PathTemplate(template);
    t.is(p.baseDir, base);
    for (const tag of HOSTILE_TAGS) {
      const path = p.render(tag, 1795823940);
      t.true(path.startsWith(base + sep), `${JSON.stringify(tag)} → ${path}`);
      t.false(path.slice(base.length).split(sep).includes('..'));
    }
  }
});

test('strftime fields come from the event time in UTC; slices follow the finest field', (t) => {
  const p = new PathTemplate('/logs/${tag}/%Y/%m/%d/%H.ndjson.gz');
  t.is(p.sliceSeconds, 3600);
  t.is(p.render('app', Date.UTC(2026, 10, 27, 23, 59, 59) / 1000), '/logs/app/2026/11/27/23.ndjson.gz');
  t.is(p.render('app', Date.UTC(2026, 10, 28, 0, 0, 0) / 1000), '/logs/app/2026/11/28/00.ndjson.gz');
  t.is(new PathTemplate('/l/%j-%M.txt').render('a', Date.UTC(2026, 0, 2, 0, 5) / 1000), '/l/002-05.txt', '%j is right at the start of a day');
  t.is(new PathTemplate('/l/%j-%M.txt').sliceSeconds, 60);
  t.is(new PathTemplate('/l/%Y%m%d.txt').sliceSeconds, 86400);
  t.is(new PathTemplate('/l/${tag[1]}.log').render('a.b.c', 0), '/l/b.log');
  t.is(new PathTemplate('/l/${tag[7]}.log').render('a.b', 0), '/l/%_.log', 'a missing part is %_ (the literal _ stays _)');
  t.throws(() => new PathTemplate('/l/${host}.log'), { message: /unknown placeholder/ });
});

// ------------------------------------------------------------- injectivity over hostile tags

/** Code points and units a hostile tag is built from: separators, escapes, C0/C1, bidi, invisible, broken UTF-16. */
const PIECES = [
  'a', 'Z', '0', '_', '-', '.', '..', ' ', '/', '\\', '%', '%2E', '%2F', '%u', '%_', '~', '~0123456789abcdef',
  '\0', '\n', '\r', '\t', '\x1b', '\x7f', '\u0085', '\u009b', '\u00a0', '\u00ad', '\u200b', '\u200d', '\u200e',
  '\u202e', '\u2066', '\u2028', '\u2029', '\u3000', '\ufeff', '\ufffd', '\ufffe', '\ue000', '\u034f', '\ufe0f',
  '\ud800', '\udbff', '\udc00', '\udfff', '😀', '\ud83d', '\ude00', 'é', 'e\u0301', '日本', 'ß', 'İ',
];

/** A seeded generator (mulberry32): the same hostile tags on every run, so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function hostileTags(count: number, seed: number, maxPieces: number): string[] {
  const next = random(seed);
  const tags = new Set<string>(['', '_', '.', '..', '\ud800', '\ufffd', '\u0085', '\u202e']);
  while (tags.size < count) {
    let tag = '';
    const n = Math.floor(next() * maxPieces);
    for (let i = 0; i < n; i++) tag += PIECES[Math.floor(next() * PIECES.length)]!;
    tags.add(tag);
  }
  return [...tags];
}

/** The inverse of safeComponent for components that were not cut: proves the encoding loses nothing. */
function decodeComponent(component: string): string {
  if (component === '%_') return '';
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) out += Buffer.from(bytes).toString('utf8');
    bytes = [];
  };
  for (let i = 0; i < component.length; ) {
    if (component[i] === '%' && component[i + 1] === 'u') {
      flush();
      out += String.fromCharCode(parseInt(component.slice(i + 2, i + 6), 16));
      i += 6;
    } else if (component[i] === '%') {
      bytes.push(parseInt(component.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      flush();
      out += component[i];
      i++;
    }
  }
  flush();
  return out;
}

/** No lone surrogate: the string survives UTF-8 (what a file name is) unchanged. */
function isWellFormed(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

/** What no component may show: separators, controls (C0, C1), format/invisible characters, broken UTF-16. */
const SHOWN_UNSAFE = /[/\\\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\ufffd]|(?! )\p{Zs}/u;

test('hostile tags (C1, bidi, invisible, lone surrogates, U+FFFD, escapes): every component is visible, decodes back to the tag as a stage writes it, and no two tags share one', (t) => {
  const tags = hostileTags(20_000, 20261130, 12);
  const owner = new Map<string, string>();
  for (const tag of tags) {
    const component = safeComponent(tag);
    const shown = JSON.stringify(tag);
    t.true(isWellFormed(component), shown);
    t.false(SHOWN_UNSAFE.test(component), `${shown} → ${JSON.stringify(component)}`);
    t.false(component.startsWith('.'), shown);
    t.true(component.length > 0 && Buffer.byteLength(component) <= 200, shown);
    if (!component.includes('~')) t.is(decodeComponent(component), canonicalEscaped(tag), shown);
    const other = owner.get(component);
    if (other !== undefined) t.fail(`${shown} and ${JSON.stringify(other)} share ${JSON.stringify(component)}`);
    owner.set(component, tag);
  }
  t.is(owner.size, tags.length);
});

test('long hostile tags (cut with a hash suffix) stay distinct, and the cut never splits a character', (t) => {
  const tags = hostileTags(3000, 7, 400).filter((tag) => tag.length > 60);
  const owner = new Map<string, string>();
  for (const tag of tags) {
    const component = safeComponent(tag);
    t.true(isWellFormed(component) && Buffer.byteLength(component) <= 200, JSON.stringify(tag));
    t.false(owner.has(component), JSON.stringify(tag));
    owner.set(component, tag);
  }
  t.true(owner.size > 1000);
  const long = 'x'.repeat(300);
  t.not(safeComponent(long + '\ud800'), safeComponent(long + '\ufffd'), 'a lone surrogate and U+FFFD differ after the cut too');
});

test('on a real file system, different hostile tags land in different files and every file holds its own tag', async (t) => {
  const dir = await tempDir(t);
  const template = new PathTemplate(join(dir, '${tag}.log'));
  const tags = hostileTags(500, 99, 8);
  for (const tag of tags) await writeFile(template.render(tag, 0), JSON.stringify(tag), { flag: 'wx' }); // wx: a shared name fails here
  t.is((await readdir(dir)).length, tags.length);
  for (const tag of tags) t.is(await readFile(template.render(tag, 0), 'utf8'), JSON.stringify(tag));
});

test('the encodings the README promises: C1 and bidi controls, lone surrogates and U+FFFD, the empty tag', (t) => {
  t.is(safeComponent('a\u0085b'), 'a%C2%85b');
  t.is(safeComponent('invoice\u202Efdp.exe'), 'invoice%E2%80%AEfdp.exe');
  t.is(safeComponent('x\ud800'), 'x%uDCED%uDCA0%uDC80', 'a lone surrogate is named by its generalized UTF-8 bytes, as a stage writes it');
  t.is(safeComponent('x\udcff'), 'x%uDCFF', 'an escaped byte is that byte');
  t.is(safeComponent('x\ufffd'), 'x%EF%BF%BD');
  t.is(safeComponent(''), '%_');
  t.is(safeComponent('_'), '_');
  t.is(safeComponent('ünï.日本語 x'), 'ünï.日本語 x', 'visible text, the space included, is kept');
});

test('store file: tags that differ only in invalid UTF-8 bytes, or in a real U+FFFD, land in different files', async (t) => {
  const dir = await tempDir(t);
  // ["a\xffb", 1, {n}] by hand: logkit's writer only writes valid UTF-8
  const entry = (tagBytes: number[], n: number) => Buffer.from([0x93, 0xa0 | tagBytes.length, ...tagBytes, 0x01, 0x81, 0xa1, 0x6e, n]);
  const tags = [[0x61, 0xff, 0x62], [0x61, 0xfe, 0x62], [0x61, 0xef, 0xbf, 0xbd, 0x62], [0x61, 0xed, 0xa0, 0x80, 0x62], [0x61, 0xc3, 0x62]];
  const input = Buffer.concat(tags.map((bytes, n) => entry(bytes, n)));
  const r = await logkit(['store', 'file', join(dir, '${tag}.ndjson')], { input });
  t.is(r.exitCode, 0, String(r.stderr));
  const files = (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
  t.deepEqual(files, ['a%EF%BF%BDb.ndjson', 'a%uDCC3b.ndjson', 'a%uDCED%uDCA0%uDC80b.ndjson', 'a%uDCFEb.ndjson', 'a%uDCFFb.ndjson'].sort());
});

test('store file after a stage that writes the tags again (cat, parse, buffer): a raw invalid byte, a JSON lone surrogate and U+FFFD still land in four files, the ones store names reading the producer directly', async (t) => {
  // tags a\xffb (a raw byte), a\ud800b (a JSON escape), a\ufffdb and a\xfeb, as a producer's NDJSON bytes
  const line = (tag: Buffer, n: number) => Buffer.concat([Buffer.from('{"tag":"'), tag, Buffer.from(`","record":{"message":"{\\"n\\":${n}}"}}\n`)]);
  const input = Buffer.concat([
    line(Buffer.from([0x61, 0xff, 0x62]), 0),
    line(Buffer.from('a\\ud800b'), 1),
    line(Buffer.from('a\\ufffdb'), 2),
    line(Buffer.from([0x61, 0xfe, 0x62]), 3),
  ]);
  const expected = ['a%uDCFFb.ndjson', 'a%uDCED%uDCA0%uDC80b.ndjson', 'a%EF%BF%BDb.ndjson', 'a%uDCFEb.ndjson'];
  const bufferDir = await tempDir(t);
  const stages: Array<[string, string[]]> = [
    ['none', []],
    ['cat', ['cat', '-o', 'msgpack']],
    ['parse', ['parse', 'json', '-o', 'msgpack']],
    ['buffer', ['buffer', bufferDir, '-o', 'msgpack']],
  ];
  for (const [name, args] of stages) {
    let stream: Buffer = input;
    if (args.length > 0) {
      const stage = await logkit(args, { input, encoding: 'buffer' });
      t.is(stage.exitCode, 0, `${name}: ${String(stage.stderr)}`);
      stream = stage.stdout as unknown as Buffer;
    }
    const dir = await tempDir(t);
    const r = await logkit(['store', 'file', join(dir, '${tag}.ndjson')], { input: stream });
    t.is(r.exitCode, 0, `${name}: ${String(r.stderr)}`);
    const files = (await readdir(dir)).filter((file) => !file.startsWith('.'));
    t.deepEqual(files.sort(), [...expected].sort(), name);
    for (let n = 0; n < expected.length; n++) {
      const lines = (await readFile(join(dir, expected[n]!), 'utf8')).trim().split('\n');
      t.deepEqual(lines.map((text) => (JSON.parse(text) as { record: { n?: number; message?: string } }).record).map((record) => record.n ?? (JSON.parse(record.message!) as { n: number }).n), [n], `${name}: ${expected[n]}`);
    }
  }
});
