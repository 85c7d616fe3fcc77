import type { ExecutionContext } from 'ava';
import type { Options, ResultPromise } from 'execa';
import { execa } from 'execa';
import { LOGKIT_BIN, logkit } from '../helpers/logkit.js';
import { startPipeline, type Pipeline } from '../durability/helpers.js';

/** The two ways to run a chain: one process per command joined by pipes, or `logkit run` in one. */
export const FORMS = ['piped', 'run'] as const;
export type Form = (typeof FORMS)[number];

const quote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`;

/** The chain as `logkit run` takes it (one argument; each word quoted as a shell would need). */
export function chainText(commands: ReadonlyArray<readonly string[]>): string {
  return commands.map((argv) => argv.map(quote).join(' ')).join(' | ');
}

/**
 * Runs a chain that ends by itself to its end, either way, and returns its output and status:
 * piped, by bash with `set -o pipefail` (the status `logkit run` promises to match).
 */
export function runChain(form: Form, commands: ReadonlyArray<readonly string[]>, options: Options = {}): ResultPromise {
  if (form === 'run') return logkit(['run', chainText(commands)], options);
  const script = `set -o pipefail; ${commands.map((argv) => [process.execPath, LOGKIT_BIN, ...argv].map(quote).join(' ')).join(' | ')}`;
  return execa('bash', ['-c', script], { reject: false, stripFinalNewline: false, env: { NO_COLOR: '', FORCE_COLOR: '' }, ...options } as Options) as ResultPromise;
}

/**
 * A long-running chain, either way, with stdin ignored and stdout discarded: in the piped form
 * one process per stage (startPipeline), in the run form a Pipeline of the one process.
 */
export function startChain(t: ExecutionContext, form: Form, commands: ReadonlyArray<readonly string[]>): Pipeline {
  if (form === 'piped') return startPipeline(t, commands);
  return startPipeline(t, [['run', chainText(commands)]]);
}
