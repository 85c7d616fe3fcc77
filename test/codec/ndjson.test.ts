import test from 'ava';
import { EventTime } from '../../src/event/event-time.js';
import { eventToJSON, jsonToEvent } from '../../src/codec/ndjson.js';

test('times are written as RFC 3339 with nine fraction digits and read back exactly', (t) => {
  const line = eventToJSON({ tag: 't', time: new EventTime(1700000000, 5), record: {} });
  t.is(line, '{"time":"2023-11-14T22:13:20.000000005Z","tag":"t","record":{}}');
  const event = jsonToEvent(line);
  t.true(typeof event !== 'string' && event.time.equals(new EventTime(1700000000, 5)));
});

test('epoch seconds (integer or float) and offsets are accepted as times', (t) => {
  const at = (time: unknown) => {
    const e = jsonToEvent(JSON.stringify({ tag: 't', time, record: {} }));
    return typeof e === 'string' ? e : [e.time.sec, e.time.nsec];
  };
  t.deepEqual(at(1700000000), [1700000000, 0]);
  t.deepEqual(at(1700000000.25), [1700000000, 250000000]);
  t.deepEqual(at('2023-11-14T23:13:20.5+01:00'), [1700000000, 500000000]);
  t.regex(String(at('yesterday')), /expected "time"/);
});

test('bytes and integers beyond 2^53 survive the JSON form', (t) => {
  const record = { bin: Buffer.from([0, 255, 1]), big: 2n ** 63n - 1n, neg: -(2n ** 62n), small: 42 };
  const event = jsonToEvent(eventToJSON({ tag: 't', time: new EventTime(1, 0), record }));
  t.true(typeof event !== 'string');
  if (typeof event === 'string') return;
  t.deepEqual(event.record, record);
});

test('malformed lines are described, not thrown', (t) => {
  t.regex(jsonToEvent('{"tag":') as string, /invalid JSON/);
  t.regex(jsonToEvent('{"tag":1,"record":{}}') as string, /"tag"/);
  t.regex(jsonToEvent('{"tag":"a","record":[]}') as string, /"record"/);
});
