import type { ExecutionContext } from 'ava';
import type { LogEvent } from '../../src/event/event.js';
import { makeEvent, range, scrambled, sourcedEvents, storeEvents } from './store-helpers.js';

/** How a store's content is read back: seq → number of times stored. */
export type CountStored = () => Promise<Map<number, number>>;

export function countSeqs(seqs: Iterable<number>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const seq of seqs) counts.set(seq, (counts.get(seq) ?? 0) + 1);
  return counts;
}

/** The seqs stored more than once, and the expected seqs not stored, for one readable assertion. */
function compare(counts: Map<number, number>, expected: readonly number[]): { missing: number[]; repeated: number[]; total: number } {
  return {
    missing: expected.filter((seq) => !counts.has(seq)),
    repeated: [...counts].filter(([, n]) => n > 1).map(([seq]) => seq).sort((x, y) => x - y),
    total: [...counts.values()].reduce((a, b) => a + b, 0),
  };
}

/**
 * The scenario every store must pass. Source A (offsets = seq, consecutive): 100–199 stored,
 * then 0–99 arrives (a resend after later chunks succeeded) and is stored, then 0–199 again in
 * a scrambled order: all dropped. Source B (byte offsets 57 apart, as lines give them): 0–49
 * and 100–149 stored, then 0–149 (a chunk failing over from another aggregator): 50–99 are
 * stored, the rest dropped: a gap below the highest offset is never taken for committed.
 * Events without an identity are stored every time; a repeat within one batch is stored once.
 */
export async function resendsOutOfOrder(t: ExecutionContext, dir: string, args: readonly string[], countStored: CountStored, expectCounted = true): Promise<void> {
  const a = `A-${process.pid}-${Date.now()}`;
  const b = `B-${process.pid}-${Date.now()}`;
  const byteOffset = (seq: number): number => (seq - 1000 + 1) * 57;
  const run = async (events: LogEvent[], duplicates: number, what: string): Promise<void> => {
    const r = await storeEvents(dir, args, events);
    t.is(r.exitCode, 0, `${what}: ${r.stderr}`);
    if (expectCounted) t.is(r.duplicates, duplicates, `${what}: duplicates reported (${r.stderr.trim()})`);
  };

  await run(sourcedEvents(range(100, 200), a), 0, 'A 100–199');
  await run(sourcedEvents(range(0, 100).reverse(), a), 0, 'A 0–99, after 100–199');
  await run(sourcedEvents(scrambled(range(0, 200)), a), 200, 'A 0–199 again, scrambled');

  await run(sourcedEvents([...range(1000, 1050), ...range(1100, 1150)], b, byteOffset), 0, 'B 0–49 and 100–149');
  await run(sourcedEvents(scrambled(range(1000, 1150)), b, byteOffset), 100, 'B 0–149: the gap 50–99 stored, the rest dropped');

  const plain = range(2000, 2010).map((seq) => makeEvent(seq));
  await run(plain, 0, 'no identity');
  await run(plain, 0, 'no identity, again');

  const twice = sourcedEvents([3000, 3001, 3000, 3002, 3001], a, (seq) => seq);
  await run(twice, 2, 'a repeat within one batch');

  const counts = await countStored();
  const expected = [...range(0, 200), ...range(1000, 1150), ...range(2000, 2010), 3000, 3001, 3002];
  const { missing, repeated, total } = compare(counts, expected);
  t.deepEqual(missing, [], 'nothing lost');
  t.deepEqual(repeated, range(2000, 2010), 'only the events without an identity are stored twice');
  t.is(total, expected.length + 10);
}
