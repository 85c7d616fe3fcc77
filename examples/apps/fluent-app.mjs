#!/usr/bin/env node
// A stand-in application for the recipes: logs COUNT events through the npm package fluent-logger
// (Message mode, each event acknowledged), as an app with a Fluentd logger library does.
//
// usage: node examples/apps/fluent-app.mjs PORT TAG COUNT [--docker NAME]
//   --docker NAME: records shaped like Docker's fluentd log driver's ({container_id,
//   container_name, source, log}), tag docker.NAME — what a container's stdout becomes.
// Every record carries `seq` (0..COUNT-1) and `app` so a recipe can check what arrived.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const fluent = require('fluent-logger');

const [portText, tag, countText, flag, dockerName] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
if (!(port > 0) || !tag || !(count >= 0) || (flag !== undefined && (flag !== '--docker' || !dockerName))) {
  console.error('usage: fluent-app.mjs PORT TAG COUNT [--docker NAME]');
  process.exit(64);
}

const sender = fluent.createFluentSender(null, {
  host: '127.0.0.1',
  port,
  eventMode: 'Message',
  requireAckResponse: true,
  ackResponseTimeout: 30_000,
  reconnectInterval: 500,
  internalLogger: { info() {}, error(...args) { console.error('fluent-logger:', ...args); } },
});
sender.on('error', (error) => {
  console.error(`fluent-app: ${error.message}`);
  process.exit(2);
});

const containerId = dockerName ? Buffer.from(dockerName.padEnd(32, '0')).toString('hex').slice(0, 64) : undefined;
const pending = [];
for (let seq = 0; seq < count; seq++) {
  const record = dockerName
    ? { container_id: containerId, container_name: `/${dockerName}`, source: seq % 5 === 0 ? 'stderr' : 'stdout', log: `request ${seq} handled`, app: tag, seq }
    : { level: seq % 10 === 0 ? 'warn' : 'info', message: `request ${seq} handled`, app: tag, seq };
  pending.push(new Promise((resolve, reject) => sender.emit(tag, record, (error) => (error ? reject(error) : resolve()))));
}
await Promise.all(pending);
const socket = sender._socket;
sender.end();
if (socket && !socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
console.log(`fluent-app: ${tag}: ${count} events sent and acknowledged`);
