import test from 'ava';
import { makeIdentity, parseIdentity, fingerprintMatches } from '../../src/tail/file-identity.js';
import { ByteLineSplitter, LineBatch, cutUtf8 } from '../../src/codec/line-splitter.js';
import { expandTag } from '../../src/tail/tag.js';

test('tags: * becomes the path with slashes as dots, as Fluentd does; odd characters are neutralized', (t) => {
  t.is(expandTag('app.*', '/var/log/a.log'), 'app.var.log.a.log');
  t.is(expandTag('*', 'logs/b.log'), 'logs.b.log');
  t.is(expandTag('fixed', '/var/log/a.log'), 'fixed');
  t.is(expandTag('k.*', '/var/log/my pod$(x)/c.log'), 'k.var.log.my_pod__x_.c.log');
  t.is(expandTag('k.*.in', '/../x'), 'k...x.in'.replace(/\.{2,}/g, '.'));
});

test('identities are self-describing and catch a rewrite', (t) => {
  const head = Buffer.from('first line\nsecond\n');
  const id = makeIdentity(64769, 1234, head, head.length);
  t.is(id.id, `64769:1234:${head.length}:${id.fpHash}`);
  t.deepEqual(parseIdentity(id.id), id);
  t.true(fingerprintMatches(id, Buffer.from('first line\nsecond\nmore')));
  t.false(fingerprintMatches(id, Buffer.from('other line\nsecond\n')));
  t.false(fingerprintMatches(id, Buffer.from('first')));
  t.is(parseIdentity('stdin'), undefined);
});

test('the splitter keeps lines across chunks, knows each end offset, and stays bounded', (t) => {
  const splitter = new ByteLineSplitter(8, 100);
  const batch = new LineBatch();
  splitter.push(Buffer.from('ab\ncd'), batch);
  t.is(splitter.lineStart, 103);
  splitter.push(Buffer.from('ef\r\n0123456789abc'), batch);
  splitter.push(Buffer.from('def\nz'), batch);
  t.deepEqual(batch.texts, ['ab', 'cdef', '01234567']);
  t.deepEqual(batch.ends, [103, 109, 126]);
  t.deepEqual(batch.truncated, [2]);
  const last = new LineBatch();
  splitter.flush(last);
  t.deepEqual([last.texts, last.ends], [['z'], [127]]);
});

test('a multi-byte character cut between chunks or by the limit is never mangled', (t) => {
  const bytes = Buffer.from('añb€\n');
  const splitter = new ByteLineSplitter(1024);
  const batch = new LineBatch();
  for (let i = 0; i < bytes.length; i++) splitter.push(bytes.subarray(i, i + 1), batch);
  t.deepEqual(batch.texts, ['añb€']);
  t.is(cutUtf8(Buffer.from('a€'), 2).toString(), 'a');
});
