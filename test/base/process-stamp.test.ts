import test from 'ava';
import { isRunning, stampOf } from '../../src/base/process-stamp.js';
import { zombie } from '../helpers/zombie.js';

test('a stamped process runs while its pid runs with its start time: not once exited, not as a zombie, not as another process given its pid', async (t) => {
  t.true(isRunning(stampOf(process.pid)));
  t.true(isRunning({ pid: process.pid }), 'without a start time the pid alone decides');
  t.false(isRunning({ pid: process.pid, start: 'another time' }), 'the pid was given to another process');
  t.false(isRunning({ pid: 2 ** 31 - 1 }), 'no such pid');
  // killed -9, its parent not reaping it: gone for every purpose (a lock, a crash record)
  t.false(isRunning(await zombie(t)));
});
