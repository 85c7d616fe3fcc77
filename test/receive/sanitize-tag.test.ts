import test from 'ava';
import { MAX_TAG_BYTES, isCleanTag, sanitizeTag } from '../../src/receive/sanitize-tag.js';

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
