import test from 'ava';
import { expandTag } from '../../src/tail/tag.js';
import { MAX_TAG_BYTES, isCleanTag, sanitizeTag } from '../../src/event/tag.js';

test('clean tags pass untouched', (t) => {
  for (const tag of ['app', 'app.web', 'docker.3f2a1b', 'k8s.ns-1.pod_2', 'a:b@c+d=e~f']) {
    t.true(isCleanTag(tag));
    t.is(sanitizeTag(tag), tag);
  }
});

test('path separators, dot runs, NUL, control characters, newlines, non-ASCII and length are sanitized', (t) => {
  t.is(sanitizeTag('../../etc/passwd'), '_._etc_passwd');
  t.is(sanitizeTag('a..b'), 'a.b');
  t.is(sanitizeTag('.a.'), 'a');
  t.is(sanitizeTag('a\\b'), 'a_b');
  t.is(sanitizeTag('nul\u0000'), 'nul_');
  t.is(sanitizeTag('two\nlines\r'), 'two_lines_');
  t.is(sanitizeTag('tab\there'), 'tab_here');
  t.is(sanitizeTag('\u001b[2J'), '__2J');
  t.is(sanitizeTag('héllo'), 'h_llo');
  t.is(sanitizeTag('emoji😀'), 'emoji_');
  t.is(sanitizeTag(''), '_');
  t.is(sanitizeTag('...'), '_');
  t.is(sanitizeTag('x'.repeat(1000)).length, MAX_TAG_BYTES);
  t.is(sanitizeTag('a'.repeat(254) + '.b'), 'a'.repeat(254), 'no trailing dot after the cut');
  for (const nasty of ['..', '/', '\u0000', '\n', 'a/../b', 'x'.repeat(300)]) {
    const clean = sanitizeTag(nasty);
    t.true(isCleanTag(clean), JSON.stringify(nasty));
  }
});

test('tail\'s path tags follow the same rule', (t) => {
  t.is(expandTag('app.*', '/var/log/a.log'), 'app.var.log.a.log');
  t.is(expandTag('k.*', '/var/log/my pod$(x)/c.log'), 'k.var.log.my_pod__x_.c.log');
  t.is(expandTag('k.*', '/var/log/\u202e/\u0085.log'), 'k.var.log._._.log');
  t.true(isCleanTag(expandTag('*', '/../..//x/')));
});
