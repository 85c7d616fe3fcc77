import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { mulberry32 } from './prng.js';

/**
 * Seeded random events for property tests: unicode and control characters, binary values, 64-bit
 * integers, floats of every magnitude, nested maps and arrays, nanosecond times, options maps. The
 * same seed gives the same events, so a failure is reproducible.
 */
export function randomEvents(seed: number) {
  const random = mulberry32(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;

  function randomString(max = 40): string {
    const alphabet = [...pick(ALPHABETS)];
    let s = '';
    for (let i = int(max); i > 0; i--) s += pick(alphabet);
    return s;
  }

  function randomKey(): string {
    const key = randomString(12);
    return key === '__proto__' || key === '$base64' ? 'k' + key : key;
  }

  function randomNumber(): number | bigint {
    switch (int(8)) {
      case 0: return int(256);
      case 1: return -int(2 ** 31);
      case 2: return int(2 ** 53); // up to the largest exact double integer
      case 3: return (BigInt(int(2 ** 30) + 1) << 33n) + BigInt(int(2 ** 30)); // beyond 2^53
      case 4: return -((BigInt(int(2 ** 29) + 1) << 33n)); // negative beyond -2^53
      case 5: return 2n ** 64n - 1n - BigInt(int(1000)); // near uint64 max
      case 6: return (random() - 0.5) * 10 ** int(30); // floats of every magnitude
      default: return random() / 10 ** int(300);
    }
  }

  function randomValue(depth: number): unknown {
    switch (int(depth > 3 ? 6 : 8)) {
      case 0: return randomString();
      case 1: return randomNumber();
      case 2: return pick([true, false, null]);
      case 3: return Buffer.from(Array.from({ length: int(40) }, () => int(256))); // binary
      case 4: return randomString(200);
      case 5: return randomNumber();
      case 6: return Array.from({ length: int(5) }, () => randomValue(depth + 1));
      default: return randomMap(depth + 1);
    }
  }

  function randomMap(depth: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (let i = int(6); i > 0; i--) map[randomKey()] = randomValue(depth);
    return map;
  }

  function randomEvent(): LogEvent {
    const event: LogEvent = {
      tag: pick(['app', 'app.web', 'docker.abc123', randomString(20)]),
      time: new EventTime(int(2 ** 32), int(1e9)),
      record: randomMap(0),
    };
    if (random() < 0.4) event.options = { src: { id: randomString(10), off: int(2 ** 40) }, ...randomMap(2) };
    return event;
  }

  return { random, int, pick, randomString, randomValue, randomMap, randomEvent };
}


const ALPHABETS = [
  'abcdefghijklmnopqrstuvwxyz0123456789 _-.',
  'äöüßéèêçñøåÆŒ€£¥©®™°±µ¶§',
  'Привет мир Ελληνικά עברית العربية हिन्दी',
  '日本語中文한국어漢字かなカナ',
  '😀🎉🚀👍🏽🇫🇷𝄞𝕏',
  '"\\/\b\f\n\r\t\u0000\u0001\u001f\u007f\u2028\u2029',
];

/** The seed of the shared stream below (LOGKIT_PROPERTY_SEED overrides it to reproduce a failure). */
export const SEED = Number(process.env.LOGKIT_PROPERTY_SEED ?? 20261121);

/** One event of the stream seeded with SEED. */
export const randomEvent: () => LogEvent = randomEvents(SEED).randomEvent;
