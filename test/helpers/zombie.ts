import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { ExecutionContext } from 'ava';
import { stampOf, type ProcessStamp } from '../../src/base/process-stamp.js';
import { waitFor } from './wait.js';

/**
 * A process that has exited and is not reaped: the stamp it had while it ran (what a lock file or
 * a crash record holds). Its parent execs into a sleep that never waits for children; both go
 * when the test ends.
 */
export async function zombie(t: ExecutionContext): Promise<ProcessStamp> {
  const parent = spawn('bash', ['-c', 'sleep 600 & echo $!; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => void parent.kill('SIGKILL'));
  const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
  const stamp = stampOf(Number(line.toString().trim()));
  process.kill(stamp.pid, 'SIGKILL');
  const state = () => readFileSync(`/proc/${stamp.pid}/stat`, 'utf8').split(') ')[1]![0];
  await waitFor(() => state() === 'Z', `process ${stamp.pid} a zombie`);
  return stamp;
}
