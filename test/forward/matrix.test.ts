import test from 'ava';
import { logkit, tempDir } from '../helpers/logkit.js';
import { assertSameEvents, encode, sampleEvents } from './helpers.js';
import { selfSignedCert } from '../helpers/net.js';
import { startReceive } from '../helpers/receive.js';
import { waitFor } from '../helpers/wait.js';

// logkit forward → logkit receive (both real processes) over every combination of
// acknowledgements, gzip, TLS and shared-key authentication: every event arrives exactly once,
// with its tag, nanosecond time and record intact.

const EVENTS = sampleEvents(3000);
const INPUT = encode(EVENTS);

for (const ack of [true, false]) {
  for (const gzip of [false, true]) {
    for (const tls of [false, true]) {
      for (const sharedKey of [false, true]) {
        const name = `${ack ? 'ack' : 'no-ack'}, ${gzip ? 'gzip' : 'plain'}, ${tls ? 'TLS' : 'TCP'}, ${sharedKey ? 'shared key' : 'no auth'}`;
        test.serial(`forward → receive: ${name}`, async (t) => {
          const receiveArgs: string[] = [];
          const forwardArgs: string[] = ['--stats', '--chunk-bytes', '20000'];
          if (!ack) forwardArgs.push('--no-ack');
          if (gzip) forwardArgs.push('--compress', 'gzip');
          if (tls) {
            const dir = await tempDir(t);
            const { cert, key } = await selfSignedCert(dir);
            receiveArgs.push('--tls-cert', cert, '--tls-key', key);
            forwardArgs.push('--tls', '--tls-ca', cert);
          }
          if (sharedKey) {
            receiveArgs.push('--shared-key', 's3cret key');
            forwardArgs.push('--shared-key', 's3cret key', '--self-hostname', 'collector-1');
            // With TLS, also user authentication (part of the same handshake).
            if (tls) {
              receiveArgs.push('--user', 'alice:pa55word');
              forwardArgs.push('--username', 'alice', '--password', 'pa55word');
            }
          }
          const receiver = await startReceive(t, receiveArgs);
          const forward = await logkit(['forward', `127.0.0.1:${receiver.port}`, ...forwardArgs], { input: INPUT });
          t.is(forward.exitCode, 0, String(forward.stderr));
          // --no-ack: nothing is acknowledged, the counters say what was sent
          const delivered = ack ? 'acked' : 'sent';
          t.regex(String(forward.stderr), new RegExp(`events=3000 chunks=\\d+ ${delivered}_chunks=\\d+ ${delivered}_events=3000 .*pending_chunks=0`));
          await waitFor(() => receiver.events.length >= EVENTS.length, 'all events at receive');
          await receiver.stop();
          assertSameEvents(t, receiver.events, EVENTS);
          t.notRegex(receiver.stderr(), /error|invalid|denied|mismatch/i);
        });
      }
    }
  }
}

test.serial('a wrong shared key delivers nothing and says so: exit 69 with the count of undelivered events', async (t) => {
  const receiver = await startReceive(t, ['--shared-key', 'right']);
  const forward = await logkit(['forward', `127.0.0.1:${receiver.port}`, '--shared-key', 'wrong', '--drain-timeout', '2'], {
    input: INPUT,
  });
  t.is(forward.exitCode, 69);
  t.regex(String(forward.stderr), /authentication failed|shared.key/i);
  t.regex(String(forward.stderr), /3000 events in \d+ chunks could not be delivered/);
  t.is(receiver.events.length, 0);
});

test.serial('TLS with verification refuses a certificate it does not trust', async (t) => {
  const dir = await tempDir(t);
  const { cert, key } = await selfSignedCert(dir);
  const receiver = await startReceive(t, ['--tls-cert', cert, '--tls-key', key]);
  const refused = await logkit(['forward', `127.0.0.1:${receiver.port}`, '--tls', '--drain-timeout', '1.5'], { input: INPUT });
  t.is(refused.exitCode, 69);
  t.regex(String(refused.stderr), /self.signed|certificate/i);
  const accepted = await logkit(['forward', `127.0.0.1:${receiver.port}`, '--tls', '--no-tls-verify'], { input: INPUT });
  t.is(accepted.exitCode, 0, String(accepted.stderr));
  await waitFor(() => receiver.events.length >= EVENTS.length, 'all events at receive');
  t.is(receiver.events.length, EVENTS.length);
});
