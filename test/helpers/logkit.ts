import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options, type ResultPromise } from 'execa';
import type { ExecutionContext } from 'ava';

/** The repository root (tests run from dist/test/helpers). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The installed entry point, exactly what `npm install` links as `logkit`. */
export const LOGKIT_BIN = join(ROOT, 'bin', 'logkit.js');

/** Runs the built CLI as a child process; never rejects on a non-zero exit (tests assert on it). */
export function logkit(args: readonly string[], options: Options = {}): ResultPromise {
  return execa(process.execPath, [LOGKIT_BIN, ...args], {
    reject: false,
    stripFinalNewline: false,
    env: { NO_COLOR: '', FORCE_COLOR: '' },
    ...options,
  } as Options) as ResultPromise;
}

/** A temporary directory removed when the test ends. */
export async function tempDir(t: ExecutionContext, prefix = 'logkit-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
