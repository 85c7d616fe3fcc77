import test from 'ava';
import { addressKey } from '../../src/receive/address-key.js';
import { AuthBackoff } from '../../src/receive/auth-backoff.js';

test('addressKey: IPv4 as is, IPv4-mapped IPv6 as its IPv4, IPv6 by its /64, Unix sockets none', (t) => {
  t.is(addressKey('203.0.113.7'), '203.0.113.7');
  t.is(addressKey('::ffff:203.0.113.7'), '203.0.113.7');
  t.is(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  t.is(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  t.is(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
  t.is(addressKey('::1'), '0:0:0:0::/64');
  t.is(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  t.not(addressKey('2001:db8:1:3::1'), addressKey('2001:db8:1:2::1'));
  t.is(addressKey(undefined), undefined);
});

test('AuthBackoff: two failures free, then 1, 2, 4 ... s up to the maximum; success clears; other addresses unaffected', (t) => {
  let now = 1_000_000;
  const backoff = new AuthBackoff(10_000, () => now);
  t.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(() => backoff.failed('a')), [0, 0, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  t.is(backoff.waitMs('a'), 10_000);
  t.is(backoff.waitMs('b'), 0);
  now += 4000;
  t.is(backoff.waitMs('a'), 6000);
  backoff.succeeded('a');
  t.is(backoff.waitMs('a'), 0);
  t.is(backoff.failed('a'), 0, 'counting starts again after a success');
  // a long quiet time forgets the failures too
  backoff.failed('c');
  backoff.failed('c');
  now += 16 * 60_000;
  t.is(backoff.failed('c'), 0);
  // 0: no backoff at all
  const off = new AuthBackoff(0, () => now);
  for (let i = 0; i < 10; i++) off.failed('a');
  t.is(off.waitMs('a'), 0);
});
