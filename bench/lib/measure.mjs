// Helpers for the benchmarks: run shell pipelines with every process under /usr/bin/time, free
// ports, line counting that reads only what is new.
import { spawn } from 'node:child_process';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LOGKIT = `${process.execPath} ${join(ROOT, 'bin/logkit.js')}`;

/** A command string that runs under GNU time, writing "wall user sys maxrssKB" to timeFile. */
export function timed(timeFile, command) {
  return `/usr/bin/time -f '%e %U %S %M' -o ${timeFile} ${command}`;
}

export async function readTime(timeFile) {
  const text = (await readFile(timeFile, 'utf8')).trim().split('\n').pop();
  const [wall, user, sys, rssKB] = text.split(/\s+/).map(Number);
  return { wall, cpu: user + sys, rssMB: rssKB / 1024 };
}

/** Runs a shell pipeline to completion; resolves with wall seconds, rejects on failure. */
export function runPipeline(command, { stdout = 'ignore' } = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn('bash', ['-c', `set -o pipefail; ${command}`], { stdio: ['ignore', stdout, 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => {
      const wall = Number(process.hrtime.bigint() - start) / 1e9;
      code === 0 ? resolve(wall) : reject(new Error(`exit ${code}: ${command}`));
    });
  });
}

/** Starts a long-running pipeline in its own process group; stop() sends SIGTERM to its logkit processes. */
export function startDaemon(command) {
  const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    child,
    exited,
    async stop(timeoutMs = 20_000) {
      // signal the node processes, not GNU time (which would die without writing its report): its
      // command line holds bin/logkit.js too, so match only command lines that start with node
      await new Promise((resolve) => spawn('pkill', ['-TERM', '-g', String(child.pid), '-f', `^${process.execPath} .*bin/logkit\\.js`]).on('exit', resolve));
      const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Counts newlines in every regular file under dir, reading each file only from where it was last counted. */
export class LineCounter {
  constructor(dir) { this.dir = dir; this.seen = new Map(); this.total = 0; }
  async count() {
    for (const file of await listFiles(this.dir)) {
      if (/\.gz$/.test(file)) continue;
      const size = (await stat(file)).size;
      const from = this.seen.get(file) ?? 0;
      if (size <= from) continue;
      const handle = await open(file, 'r');
      const buf = Buffer.allocUnsafe(size - from);
      await handle.read(buf, 0, buf.length, from);
      await handle.close();
      let n = 0;
      for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
      this.total += n;
      this.seen.set(file, size);
    }
    return this.total;
  }
}

async function listFiles(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    // .logkit-store/ is the store's own state (open files, committed positions), not events
    if (entry.isDirectory()) { if (entry.name !== '.logkit-store') out.push(...(await listFiles(path))); }
    else if (entry.isFile() && !entry.name.startsWith('.')) out.push(path);
  }
  return out;
}

export async function waitFor(predicate, { timeoutMs = 600_000, intervalMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export { freePort } from './free-port.mjs';
