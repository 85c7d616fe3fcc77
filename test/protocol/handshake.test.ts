import test from 'ava';
import {
  encodeHelo,
  encodePing,
  encodePong,
  newHeloState,
  parseHelo,
  parsePing,
  passwordDigest,
  pingDigest,
  pongDigest,
  verifyPing,
  verifyPong,
  constantTimeEqual,
  newSharedKeySalt,
  type ServerAuthConfig,
} from '../../src/protocol/handshake.js';
import { fluentBitCheckPing } from '../forward/fluent-bit-peer.js';

// Vectors computed independently (Python hashlib) from the specification's formulas:
//   PING: sha512_hex(shared_key_salt + client_hostname + nonce + shared_key)
//   PONG: sha512_hex(shared_key_salt + server_hostname + nonce + shared_key)
//   user: sha512_hex(auth_salt + username + password)
const NONCE = Buffer.from([0x00, 0xff, ...Buffer.from('nonce'), 0x80]); // not valid UTF-8 on purpose
const SALT = Buffer.from('salt0123');
const PING_HEX = '59ffb469fab05cb33d1f783380c1fa063dca29edb1362b8c557b139d16b30e638ba8aae7d93985534cce11a07fd8591c128270908cbdefbc5c8329af10ec8064';
const PONG_HEX = '83cf342f5480939abe27c105ca680d9260a0add7ec0648d9713862af0402402de36183984009715850a610be2137f36f045b779f62d08c29729fd4545d7c02dc';
const PASSWORD_HEX = '9cb9494a0398ba1f05a7d1e2fde3d0e2b3ef19a43959166c19924e9fe0fdabb12e17016cb32293d3f0573e26f5454c63f4552a656b633621d50ff61799dec70a';

test('digests match the specification formulas, over raw (non-UTF-8) nonce bytes', (t) => {
  t.is(pingDigest(SALT, 'client.example.com', NONCE, 'secret'), PING_HEX);
  t.is(pongDigest(SALT, 'server.example.com', NONCE, 'secret'), PONG_HEX);
  t.is(passwordDigest(Buffer.from([1, 2, ...Buffer.from('auth')]), 'alice', 'wonderland'), PASSWORD_HEX);
});

test('HELO bytes: ["HELO", {nonce: bin, auth: bin, keepalive: true}]', (t) => {
  const helo = { nonce: NONCE, authSalt: Buffer.alloc(0) };
  const expected = Buffer.concat([
    Buffer.from([0x92, 0xa4]), Buffer.from('HELO'),
    Buffer.from([0x83, 0xa5]), Buffer.from('nonce'), Buffer.from([0xc4, NONCE.length]), NONCE,
    Buffer.from([0xa4]), Buffer.from('auth'), Buffer.from([0xc4, 0x00]),
    Buffer.from([0xa9]), Buffer.from('keepalive'), Buffer.from([0xc3]),
  ]);
  t.deepEqual(encodeHelo(helo), expected);
});

test('client parses a HELO whose nonce and auth salt are str holding raw bytes (Fluent Bit style)', (t) => {
  const auth = Buffer.from([0xfe, 0x01, 0xc0]);
  const frame = Buffer.concat([
    Buffer.from([0x92, 0xa4]), Buffer.from('HELO'),
    Buffer.from([0x82, 0xa5]), Buffer.from('nonce'), Buffer.from([0xa0 | NONCE.length]), NONCE,
    Buffer.from([0xa4]), Buffer.from('auth'), Buffer.from([0xa0 | auth.length]), auth,
  ]);
  const helo = parseHelo(frame);
  t.deepEqual(helo.nonce, NONCE);
  t.deepEqual(helo.authSalt, auth);
  t.true(helo.keepalive);
});

test('PING bytes and server verification; PONG bytes and client verification', (t) => {
  const helo = { nonce: NONCE, authSalt: Buffer.alloc(0), keepalive: true };
  const { bytes } = encodePing(helo, { sharedKey: 'secret', clientHostname: 'client.example.com' }, SALT);
  const expected = Buffer.concat([
    Buffer.from([0x96, 0xa4]), Buffer.from('PING'),
    Buffer.from([0xb2]), Buffer.from('client.example.com'),
    Buffer.from([0xa0 | SALT.length]), SALT, // str, not bin: Fluent Bit's in_forward accepts only str
    Buffer.from([0xd9, 128]), Buffer.from(PING_HEX),
    Buffer.from([0xa0, 0xa0]),
  ]);
  t.deepEqual(bytes, expected);

  const config: ServerAuthConfig = { sharedKey: 'secret', users: new Map(), serverHostname: 'server.example.com' };
  const ping = parsePing(bytes);
  const verdict = verifyPing(ping, { nonce: NONCE, authSalt: Buffer.alloc(0) }, config);
  t.deepEqual(verdict, { ok: true, username: '' });
  const pong = encodePong(verdict, ping, { nonce: NONCE, authSalt: Buffer.alloc(0) }, config);
  t.deepEqual(
    pong,
    Buffer.concat([
      Buffer.from([0x95, 0xa4]), Buffer.from('PONG'), Buffer.from([0xc3, 0xa0, 0xb2]), Buffer.from('server.example.com'),
      Buffer.from([0xd9, 128]), Buffer.from(PONG_HEX),
    ]),
  );
  t.deepEqual(verifyPong(pong, helo, SALT, 'secret'), { ok: true, serverHostname: 'server.example.com' });
  // a server that does not know the key cannot forge the PONG
  t.false(verifyPong(pong, helo, SALT, 'other').ok);
});

test('the PING forward sends passes Fluent Bit in_forward\'s check_ping: every field a str, salt 32 hex characters', (t) => {
  const helo = { nonce: NONCE, authSalt: Buffer.alloc(0), keepalive: true };
  const { bytes, sharedKeySalt } = encodePing(helo, { sharedKey: 'secret', clientHostname: 'client.example.com' });
  // the salt's own bytes on the wire: str8 of 32 lowercase hex characters, as Fluentd's out_forward sends it
  const saltAt = 1 + 5 + 1 + 'client.example.com'.length;
  t.deepEqual(bytes.subarray(saltAt, saltAt + 2), Buffer.from([0xd9, 32]));
  t.regex(bytes.subarray(saltAt + 2, saltAt + 34).toString('latin1'), /^[0-9a-f]{32}$/);
  const checked = fluentBitCheckPing(bytes);
  if (typeof checked === 'string') return t.fail(`Fluent Bit would refuse it: ${checked}`);
  t.deepEqual(checked.salt, sharedKeySalt);
  t.is(checked.hostname, 'client.example.com');
  // Fluent Bit hashes salt + hostname + nonce + key over the str bytes it read
  t.is(checked.digest, pingDigest(checked.salt, checked.hostname, NONCE, 'secret'));
  t.not(newSharedKeySalt().toString(), newSharedKeySalt().toString(), 'a fresh salt per connection');
});

test('a PING with the salt as str of raw bytes (Fluent Bit) verifies over the bytes', (t) => {
  const salt = Buffer.from([0x80, 0x81, 0xff, 0x00]);
  const digest = pingDigest(salt, 'fb', NONCE, 'k');
  const frame = Buffer.concat([
    Buffer.from([0x96, 0xa4]), Buffer.from('PING'), Buffer.from([0xa2]), Buffer.from('fb'),
    Buffer.from([0xa4]), salt, Buffer.from([0xd9, 128]), Buffer.from(digest), Buffer.from([0xa0, 0xa0]),
  ]);
  const verdict = verifyPing(parsePing(frame), { nonce: NONCE, authSalt: Buffer.alloc(0) }, { sharedKey: 'k', users: new Map(), serverHostname: 's' });
  t.true(verdict.ok);
});

test('wrong key: failure PONG ["PONG", false, reason, "", ""]', (t) => {
  const server = newHeloState(false);
  const helo = parseHelo(encodeHelo(server));
  const { bytes, sharedKeySalt } = encodePing(helo, { sharedKey: 'wrong', clientHostname: 'c' });
  const config: ServerAuthConfig = { sharedKey: 'right', users: new Map(), serverHostname: 's' };
  const ping = parsePing(bytes);
  const verdict = verifyPing(ping, server, config);
  t.deepEqual(verdict, { ok: false, reason: 'shared_key mismatch' });
  const pong = encodePong(verdict, ping, server, config);
  t.deepEqual(pong, Buffer.concat([Buffer.from([0x95, 0xa4]), Buffer.from('PONG'), Buffer.from([0xc2, 0xb3]), Buffer.from('shared_key mismatch'), Buffer.from([0xa0, 0xa0])]));
  t.deepEqual(verifyPong(pong, helo, sharedKeySalt, 'wrong'), { ok: false, reason: 'shared_key mismatch' });
});

test('user authentication: right password passes, wrong password and unknown user fail', (t) => {
  const config: ServerAuthConfig = { sharedKey: 'k', users: new Map([['alice', 'wonderland']]), serverHostname: 's' };
  const server = newHeloState(true);
  t.is(server.authSalt.length, 16);
  const helo = parseHelo(encodeHelo(server));
  const attempt = (username: string, password: string) =>
    verifyPing(parsePing(encodePing(helo, { sharedKey: 'k', clientHostname: 'c', username, password }).bytes), server, config);
  t.deepEqual(attempt('alice', 'wonderland'), { ok: true, username: 'alice' });
  t.deepEqual(attempt('alice', 'guess'), { ok: false, reason: 'username/password mismatch' });
  t.deepEqual(attempt('mallory', 'wonderland'), { ok: false, reason: 'username/password mismatch' });
});

test('constantTimeEqual', (t) => {
  t.true(constantTimeEqual('abc', Buffer.from('abc')));
  t.false(constantTimeEqual('abc', 'abd'));
  t.false(constantTimeEqual('abc', 'abcd'));
});
