import test from 'ava';
import { Unpackr } from 'msgpackr/unpack';
import { IdentityRuns, readIdentities, type Identity } from '../../src/protocol/identity-option.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'auto' as 'bigint' });

test('identity runs: consecutive lines cost about a byte each; sources, gaps, resends out of order and entries without identity round-trip', (t) => {
  const runs = new IdentityRuns();
  const entries: Array<Identity | undefined> = [];
  const add = (identity: Identity | undefined) => {
    entries.push(identity);
    runs.add(identity);
  };
  for (let off = 100; off < 100 + 80 * 1000; off += 80) add({ id: 'dev:ino:1', off }); // 1000 lines of 80 bytes
  add(undefined);
  add(undefined);
  add({ id: 'dev:ino:2', off: 5 });
  add({ id: 'dev:ino:1', off: 50 }); // an older line after newer ones: a negative delta
  add({ id: 'dev:ino:1', off: 2 ** 40 }); // past 32 bits
  const value = runs.take()!;
  t.true(value.length < 1000 * 1.1 + 100, `${value.length} bytes for ${entries.length} identities`);
  t.deepEqual(readIdentities(unpackr.unpack(value), entries.length), entries);
  t.is(runs.take(), undefined, 'take() resets');
});

test('identity runs: a chunk where no entry has an identity carries no option', (t) => {
  const runs = new IdentityRuns();
  runs.add(undefined);
  t.is(runs.take(), undefined);
});

test('readIdentities refuses what does not add up, rather than label events wrongly', (t) => {
  t.deepEqual(readIdentities([['a', 2, 10, 5]], 2), [{ id: 'a', off: 10 }, { id: 'a', off: 15 }]);
  t.regex(readIdentities([['a', 2, 10, 5]], 3) as string, /cover 2 entries, the chunk holds 3/);
  t.regex(readIdentities([['a', 3, 10, 5]], 3) as string, /announces 3 entries and holds 2/);
  t.regex(readIdentities([['a', 1, -1]], 1) as string, /out of range/);
  t.regex(readIdentities([['a', 1, 'x']], 1) as string, /not an integer/);
  t.regex(readIdentities([[7, 1, 1]], 1) as string, /not a string/);
  t.regex(readIdentities([[null, 1, 4]], 1) as string, /without id has offsets/);
  t.regex(readIdentities({ a: 1 }, 1) as string, /not an array/);
  t.regex(readIdentities([['a', 5, 1, 1, 1, 1, 1]], 2) as string, /exceed/);
});
