import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { logkit, tempDir } from '../helpers/logkit.js';
import { ndjson, type OutEvent } from '../parse/helpers.js';

/** NDJSON events in, for tag to read. */
const events = (...list: Array<{ tag?: string; record: Record<string, unknown> }>) =>
  list.map((e, i) => JSON.stringify({ time: `2026-11-21T10:00:0${i}.000000000Z`, tag: e.tag ?? 'app.web.access', record: e.record })).join('\n') + '\n';

async function tag(args: string[], input: string, env: Record<string, string> = {}): Promise<OutEvent[]> {
  const r = await logkit(['tag', ...args, '-o', 'json'], { input, env: { NO_COLOR: '', FORCE_COLOR: '', ...env } });
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}: ${String(r.stderr)}`);
  return ndjson(r.stdout);
}

const one = events({ record: { level: 'error', service: 'checkout', message: 'boom', password: 'x', user: { id: 7 } } });

test('--set-tag and --prefix; --remove-prefix', async (t) => {
  t.is((await tag(['--set-tag', 'app.checkout'], one))[0]!.tag, 'app.checkout');
  t.is((await tag(['--prefix', 'prod'], one))[0]!.tag, 'prod.app.web.access');
  t.is((await tag(['--remove-prefix', 'app'], one))[0]!.tag, 'web.access');
  t.is((await tag(['--remove-prefix', 'ap'], one))[0]!.tag, 'app.web.access', 'only whole dot-separated parts');
  t.is((await tag(['--remove-prefix', 'app', '--prefix', 'k8s'], one))[0]!.tag, 'k8s.web.access');
  t.is((await tag(['--remove-prefix', 'app.web.access'], one))[0]!.tag, 'app.web.access', 'never an empty tag');
  t.is((await tag(['--remove-prefix', 'app.web.access', '--prefix', 'k8s'], one))[0]!.tag, 'k8s');
  t.is((await tag(['--set-tag', 'svc.${record.service}.${tag_parts[-1]}'], one))[0]!.tag, 'svc.checkout.access');
});

test('--tag-from-field, including nested $.a.b; events without the field keep their tag', async (t) => {
  const input = events({ record: { ns: 'payments' } }, { record: { other: 1 } }, { record: { k8s: { ns: 'cart' } } });
  t.deepEqual((await tag(['--tag-from-field', 'ns'], input)).map((e) => e.tag), ['payments', 'app.web.access', 'app.web.access']);
  t.deepEqual((await tag(['--tag-from-field', '$.k8s.ns'], input)).map((e) => e.tag), ['app.web.access', 'app.web.access', 'cart']);
});

test('a tag made from record fields is sanitized like a client\'s: no path traversal, controls or spaces reach the store', async (t) => {
  const input = events({ record: { ns: '../../etc/passwd' } }, { record: { ns: 'two words\nand a newline' } }, { record: { ns: '...' } });
  t.deepEqual((await tag(['--tag-from-field', 'ns'], input)).map((e) => e.tag), ['_._etc_passwd', 'two_words_and_a_newline', '_']);
  t.deepEqual((await tag(['--set-tag', 'svc.${record.ns}'], input)).map((e) => e.tag), ['svc._._etc_passwd', 'svc.two_words_and_a_newline', 'svc']);
  const bad = await logkit(['tag', '--set-tag', 'a/b'], { input: one });
  t.is(bad.exitCode, 64);
  t.regex(String(bad.stderr), /--set-tag "a\/b" is not a tag/);
});

test('--rewrite: regex captures into the tag, first matching rule wins, no match keeps the tag', async (t) => {
  const input = events({ record: { level: 'ERROR', service: 'auth' } }, { record: { level: 'info', service: 'cart' } }, { record: { level: 'info' } });
  const out = await tag(['--rewrite', 'level /^(error|fatal)$/i alert.$1', '--rewrite', 'service /^(\\w+)$/ app.$1.${tag_parts[1]}'], input);
  t.deepEqual(out.map((e) => e.tag), ['alert.ERROR', 'app.cart.web', 'app.web.access']);
});

test('--add: static values and every placeholder; a lone ${record.x} keeps its type', async (t) => {
  const [event] = await tag(
    [
      '--add', 'host=${hostname}',
      '--add', 'env=${env.DEPLOY_ENV}',
      '--add', 'where=${tag_parts[0]}/${tag_prefix[1]}/${tag_suffix[1]}',
      '--add', 'tag=${tag}',
      '--add', 'summary=${record.level}: ${record.message} ($$5)',
      '--add', 'uid=${record.$.user.id}',
      '--add', 'at=${time}',
      '--add', 'static=yes',
      '--add', 'eq=a=b',
    ],
    one,
    { DEPLOY_ENV: 'staging' },
  );
  t.like(event!.record, {
    host: hostname(),
    env: 'staging',
    where: 'app/app.web/web.access',
    tag: 'app.web.access',
    summary: 'error: boom ($5)',
    uid: 7,
    at: '2026-11-21T10:00:00.000000000Z',
    static: 'yes',
    eq: 'a=b',
  });
});

test('--rename keeps the field in place; --remove; --keep (and added fields survive --keep)', async (t) => {
  const [renamed] = await tag(['--rename', 'message=msg', '--rename', 'level=severity'], one);
  t.deepEqual(Object.keys(renamed!.record), ['severity', 'service', 'msg', 'password', 'user']);
  const [removed] = await tag(['--remove', 'password,user', '--remove', 'service'], one);
  t.deepEqual(removed!.record, { level: 'error', message: 'boom' });
  const [kept] = await tag(['--keep', 'level,message', '--add', 'node=n1'], one);
  t.deepEqual(kept!.record, { level: 'error', message: 'boom', node: 'n1' });
  const [copied] = await tag(['--add', 'msg=${record.message}', '--remove', 'message', '--keep', 'level,msg,message'], one);
  t.deepEqual(copied!.record, { level: 'error', msg: 'boom' }, 'added values are rendered before removal');
});

test('--include (all must match) and --exclude (any drops), on strings, numbers and missing fields', async (t) => {
  const input = events(
    { record: { level: 'error', path: '/api/cart', code: 500 } },
    { record: { level: 'info', path: '/health', code: 200 } },
    { record: { level: 'warn', path: '/api/items', code: 404 } },
    { record: { path: '/api/none' } },
  );
  const codes = (list: OutEvent[]) => list.map((e) => e.record.code ?? null);
  t.deepEqual(codes(await tag(['--include', 'level /^(warn|error)$/'], input)), [500, 404]);
  t.deepEqual(codes(await tag(['--exclude', 'path /^\\/health/'], input)), [500, 404, null]);
  t.deepEqual(codes(await tag(['--include', 'path ^/api/', '--include', 'code /^5/'], input)), [500]);
  t.deepEqual(codes(await tag(['--include', 'path /API/i', '--exclude', 'code /404/', '--exclude', 'level /info/'], input)), [500, null]);
});

test('a combination: filter, route, reshape, label in one stage', async (t) => {
  const input = events(
    { tag: 'kube.var.log', record: { ns: 'shop', level: 'error', msg: 'payment failed', token: 's3cr3t' } },
    { tag: 'kube.var.log', record: { ns: 'kube-system', level: 'info', msg: 'probe ok' } },
  );
  const out = await tag(
    [
      '--exclude', 'ns /^kube-/',
      '--rewrite', 'ns /^(\\w+)$/ app.$1',
      '--prefix', 'prod',
      '--rename', 'msg=message',
      '--remove', 'token',
      '--add', 'source_tag=${tag}',
      '--add', 'cluster=${env.CLUSTER}',
    ],
    input,
    { CLUSTER: 'eu-1' },
  );
  t.deepEqual(out.map((e) => ({ tag: e.tag, record: e.record })), [
    { tag: 'prod.app.shop', record: { ns: 'shop', level: 'error', message: 'payment failed', source_tag: 'prod.app.shop', cluster: 'eu-1' } },
  ]);
});

test('raw text lines work too, and options maps pass through', async (t) => {
  const out = await tag(['--include', 'message /ERROR/', '--set-tag', 'errors'], 'INFO ok\nERROR bad\n');
  t.deepEqual(out.map((e) => [e.tag, e.record.message]), [['errors', 'ERROR bad']]);
  const withOptions = JSON.stringify({ time: '2026-11-21T00:00:00Z', tag: 'a', record: { x: 1 }, options: { src: { id: 'f', off: 9 } } }) + '\n';
  t.deepEqual((await tag(['--add', 'y=2'], withOptions))[0]!.options, { src: { id: 'f', off: 9 } });
});

test('repeatable options do not swallow the FILE arguments after them; single ones refuse repetition', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'in.ndjson');
  await writeFile(file, events({ record: { a: 1 } }));
  const r = await logkit(['tag', '--add', 'x=1', '--add', 'y=2', '--remove', 'a', file, '-o', 'json']);
  t.is(r.exitCode, 0, String(r.stderr));
  t.deepEqual(ndjson(r.stdout)[0]!.record, { x: '1', y: '2' });
  const twice = await logkit(['tag', '--prefix', 'a', '--prefix', 'b', file]);
  t.is(twice.exitCode, 64);
  t.regex(String(twice.stderr), /--prefix given more than once/);
});

test('malformed option values exit 64 with a clear message', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--add', 'novalue'], /--add "novalue": expected KEY=VALUE/],
    [['--add', 'x=${nope}'], /unknown placeholder \$\{nope\}/],
    [['--add', 'x=${env.LOGKIT_TEST_UNSET_VAR}'], /environment variable LOGKIT_TEST_UNSET_VAR is not set/],
    [['--add', 'x=$1'], /only meaningful in --rewrite/],
    [['--rename', 'a'], /--rename "a": expected OLD=NEW/],
    [['--rename', 'a='], /the new name is empty/],
    [['--remove', 'a,,b'], /--remove "a,,b": expected FIELD,FIELD/],
    [['--include', 'level'], /--include "level": expected 'FIELD \/REGEX\/'/],
    [['--include', 'level /(unclosed/'], /--include level: invalid regular expression/],
    [['--exclude', 'level /x/q'], /unknown regular expression flag "q"/],
    [['--rewrite', 'level /x/'], /--rewrite "level \/x\/": expected 'FIELD \/REGEX\/ NEW.TAG'/],
    [['--set-tag', 'has space'], /--set-tag "has space" is not a tag/],
    [['--prefix', 'trailing.'], /--prefix "trailing." is not a tag/],
  ];
  for (const [args, message] of cases) {
    const r = await logkit(['tag', ...args], { input: '{}\n' });
    t.is(r.exitCode, 64, args.join(' '));
    t.regex(String(r.stderr), message, args.join(' '));
    t.is(r.stdout, '');
  }
});
