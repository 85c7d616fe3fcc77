import { join, sep } from 'node:path';
import test from 'ava';
import { PathTemplate, safeComponent } from '../../src/store/file/path-template.js';

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
  t.is(new PathTemplate('/l/${tag[7]}.log').render('a.b', 0), '/l/_.log', 'a missing part is _');
  t.throws(() => new PathTemplate('/l/${host}.log'), { message: /unknown placeholder/ });
});
