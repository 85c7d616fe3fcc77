#!/usr/bin/env node
// Deterministic log generator for benchmarks and tests.
// usage: node bench/gen-logs.mjs <json|apache|syslog|logfmt|multiline> <lines> [seed]
// Writes to stdout. The same arguments always give the same bytes: the project's own copy of the
// team's shared generator, byte-for-byte the same output, so tests and benchmarks need nothing
// outside the repository. Lines start at 2026-11-21T00:00:00Z and are 3 ms apart.
const [kind = 'json', nArg = '100000', seedArg = '42'] = process.argv.slice(2);
const n = Number(nArg);
let s = Number(seedArg) >>> 0 || 42;
const rnd = () => ((s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 2 ** 32);
const pick = (a) => a[Math.floor(rnd() * a.length)];
const services = ['checkout', 'cart', 'search', 'auth', 'payments', 'inventory'];
const levels = ['debug', 'info', 'info', 'info', 'warn', 'error'];
const paths = ['/api/v1/items', '/api/v1/cart', '/login', '/search', '/static/app.js', '/health'];
const methods = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const agents = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0', 'curl/8.5.0', 'Go-http-client/1.1', 'kube-probe/1.31'];
const words = 'request handled cache miss retry upstream timeout user session created order placed item added query parsed'.split(' ');
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const base = Date.UTC(2026, 10, 21, 0, 0, 0);
const pad = (x, w = 2) => String(x).padStart(w, '0');
const out = [];
let bytes = 0;
const flush = () => { if (out.length) { process.stdout.write(out.join('')); out.length = 0; bytes = 0; } };
for (let i = 0; i < n; i++) {
  const t = new Date(base + i * 3);
  const msg = Array.from({ length: 3 + Math.floor(rnd() * 6) }, () => pick(words)).join(' ');
  const ip = `10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`;
  const path = `${pick(paths)}/${Math.floor(rnd() * 10000)}`;
  let line;
  switch (kind) {
    case 'json':
      line = JSON.stringify({ ts: t.toISOString(), level: pick(levels), service: pick(services), msg, user_id: Math.floor(rnd() * 1e6), latency_ms: Math.round(rnd() * 50000) / 100, path, seq: i }) + '\n';
      break;
    case 'apache': {
      const d = `${pad(t.getUTCDate())}/${months[t.getUTCMonth()]}/${t.getUTCFullYear()}:${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} +0000`;
      line = `${ip} - - [${d}] "${pick(methods)} ${path} HTTP/1.1" ${pick([200, 200, 200, 201, 304, 404, 500])} ${Math.floor(rnd() * 50000)} "-" "${pick(agents)}"\n`;
      break;
    }
    case 'syslog': {
      const d = `${months[t.getUTCMonth()]} ${String(t.getUTCDate()).padStart(2, ' ')} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
      line = `<${Math.floor(rnd() * 191)}>${d} host${Math.floor(rnd() * 20)} ${pick(services)}[${1000 + Math.floor(rnd() * 30000)}]: ${msg} seq=${i}\n`;
      break;
    }
    case 'logfmt':
      line = `ts=${t.toISOString()} level=${pick(levels)} service=${pick(services)} msg="${msg}" latency_ms=${Math.round(rnd() * 50000) / 100} seq=${i}\n`;
      break;
    case 'multiline':
      line = rnd() < 0.1
        ? `${t.toISOString()} ERROR ${pick(services)} unhandled exception seq=${i}\nTraceback (most recent call last):\n  File "app.py", line ${Math.floor(rnd() * 900)}, in handle\n    ${msg}\nValueError: bad value\n`
        : `${t.toISOString()} INFO ${pick(services)} ${msg} seq=${i}\n`;
      break;
    default:
      process.stderr.write(`unknown kind ${kind}\n`); process.exit(2);
  }
  out.push(line); bytes += line.length;
  if (bytes > 1 << 20) flush();
}
flush();
