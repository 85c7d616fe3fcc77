import { watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { CHUNK_NAME, TEMP_SUFFIX } from '../../src/buffer/chunk-file.js';
import { EventTime } from '../../src/event/event-time.js';
import type { LogEvent } from '../../src/event/event.js';
import { encodeEntryStream, encodePackedForward } from '../../src/protocol/encode-request.js';
import { parseResponse } from '../../src/protocol/response.js';
import { tempDir } from '../helpers/logkit.js';
import { RawClient } from '../receive/raw-client.js';
import { aggregatorStarter, storedSeqs } from './helpers.js';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/wait.js';

const EVENTS = 30_000;

/** One request the way Fluentd's out_forward sends them: PackedForward, 1–8 MB, here ~3.9 MB (four 1 MiB buffer chunks' worth). */
function bigRequest(chunkId: string): Buffer {
  const events: LogEvent[] = Array.from({ length: EVENTS }, (_, i) => ({ tag: 'app.big', time: new EventTime(1700000000 + i, 0), record: { i, msg: `line ${i} ${'x'.repeat(100)}` } }));
  return encodePackedForward('app.big', encodeEntryStream(events), { chunk: chunkId, size: EVENTS });
}

async function sendAndWaitForAck(port: number, request: Buffer, timeoutMs: number): Promise<string | undefined> {
  const client = new RawClient(port);
  await client.ready;
  client.write(request);
  const [response] = await client.waitForResponses(1, timeoutMs);
  client.destroy();
  return response ? (parseResponse(response) as { ack: Buffer }).ack.toString() : undefined;
}

// Issue 14, §1: a request larger than one disk-buffer chunk used to be cut across chunks, its id
// recorded only with the last part. Killed after the first part was durable, receive replayed
// that part, forgot the id, and stored the whole resend again. Killed while the request is still
// being written, nothing of it may be durable: the half-written file goes at the restart and the
// resend is stored once.
const KILL_MOMENTS = [
  {
    when: 'once the first chunk file of the buffer is durable (renamed from its temp name)',
    appears: (name: string) => CHUNK_NAME.test(name),
    // the request was durable with its id: the resend is recognised and dropped
    afterRestart: /dropped a resent chunk/,
    // the acknowledgement may or may not have left before the kill
    acknowledged: undefined,
  },
  {
    when: 'while the request is being written (its temp file appears)',
    appears: (name: string) => name.startsWith('chunk-') && name.endsWith(TEMP_SUFFIX),
    // nothing of it was durable: the half-written file goes, and the resend is the only copy
    afterRestart: /removed half-written/,
    // receive acknowledges only what is durable
    acknowledged: false,
  },
];

for (const moment of KILL_MOMENTS) {
  test(`receive --buffer killed -9 ${moment.when} with a 30,000-event request: the resend is stored once, nothing lost`, async (t) => {
    const dir = await tempDir(t);
    const port = await freePort();
    const buffer = join(dir, 'rbuf');
    const start = aggregatorStarter(t, port, dir);
    const first = await start();
    const request = bigRequest('big-request-1');

    let killedAfter: string | undefined;
    const watcher = watch(buffer, (_, name) => {
      if (killedAfter === undefined && name && moment.appears(String(name))) {
        first.receive.kill('SIGKILL');
        killedAfter = String(name);
      }
    });
    t.teardown(() => watcher.close());
    const ack = await sendAndWaitForAck(port, request, 15_000);
    await waitFor(() => killedAfter !== undefined, 'the buffer file to kill at', 30_000);
    watcher.close();
    await first.done;
    t.log(`killed receive when ${killedAfter} appeared (ack before the kill: ${ack ?? 'none'}); on disk then: ${(await readdir(buffer)).join(' ')}`);
    if (moment.acknowledged !== undefined) t.is(ack !== undefined, moment.acknowledged, 'an acknowledgement before the kill');

    // the sender got no ack (or lost it): it resends the same chunk to the restarted aggregator
    const second = await start();
    t.is(await sendAndWaitForAck(port, request, 30_000), 'big-request-1', 'the resend is acknowledged');
    await waitFor(async () => new Set(await storedSeqs(dir)).size >= EVENTS, 'every event stored', 60_000);
    second.receive.kill('SIGTERM');
    await second.done;

    const seqs = await storedSeqs(dir);
    const distinct = new Set(seqs);
    t.is(distinct.size, EVENTS, 'nothing lost');
    t.is(seqs.length - distinct.size, 0, 'nothing stored twice');
    // every stored event carries the identity the stores de-duplicate on: the chunk id and its index
    const lines = (await readFile(join(dir, 'out', 'app.big.ndjson'), 'utf8')).split('\n').filter(Boolean);
    const wrong = lines.filter((line) => {
      const event = JSON.parse(line) as { record: { i: number }; options?: { src?: { id: string; off: number } } };
      return event.options?.src?.off !== event.record.i || !event.options.src.id.startsWith('chunk:');
    });
    t.is(wrong.length, 0, `events without their identity: ${wrong.slice(0, 2).join(' ')}`);
    t.regex(second.stderr(), moment.afterRestart);
  });
}
