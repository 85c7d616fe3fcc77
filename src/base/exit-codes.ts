/** Exit codes from sysexits.h, so scripts and systemd can tell failures apart. */
export const ExitCode = {
  OK: 0,
  USAGE: 64,
  DATA_ERROR: 65,
  NO_INPUT: 66,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  CANT_CREATE: 73,
  IO_ERROR: 74,
  TEMP_FAIL: 75,
  CONFIG: 78,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as one line on stderr and turns into an exit code (no stack trace). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * A stage that gave up at its deadline (a drain that did not finish in time, a buffer that
 * failed while its consumer was stalled): it has finished its own cleanup, but work it no longer
 * waits for (a write to a stdout nobody reads, an open stdin) must not keep the process alive.
 * main.ts exits at once with `exitCode` (after `message`, when there is one); under `logkit run`
 * the other stages finish first. Status 0 is a clean stop that left nothing undone it promised.
 */
export class ExitAtOnce extends CliError {
  constructor(message: string, exitCode: ExitCodeValue) {
    super(message, exitCode);
    this.name = 'ExitAtOnce';
  }
}

/** What each status means, for the EXIT STATUS section of the man pages. */
const MEANINGS: Record<ExitCodeValue, string> = {
  0: 'success',
  64: 'usage error (unknown command or option, bad value)',
  65: 'bad input data (corrupt MessagePack, invalid NDJSON, a malformed checkpoint file)',
  66: 'an input file does not exist or cannot be read',
  69: 'a server, destination or listening address is unavailable (e.g. the --metrics address in use)',
  70: 'internal error',
  73: 'an output file or directory cannot be created (e.g. the buffer directory)',
  74: 'I/O error (e.g. writing a buffer chunk or the output)',
  75: 'temporary failure, try again (e.g. a buffer limit reached with --overflow fail, or its directory in use)',
  78: 'configuration error (e.g. the --checkpoint file cannot be created or read)',
};

/** Every command can return these: success, a usage error, an internal error. */
export const COMMON_EXIT_STATUSES: readonly ExitCodeValue[] = [ExitCode.OK, ExitCode.USAGE, ExitCode.SOFTWARE];

/** The EXIT STATUS text for these statuses (the common ones added), in numeric order. */
export function exitStatusText(statuses: readonly ExitCodeValue[]): string {
  const all = [...new Set([...COMMON_EXIT_STATUSES, ...statuses])].sort((a, b) => a - b);
  return all.map((code) => `${code} ${MEANINGS[code]}`).join('; ') + '.';
}

/** Every status logkit can return. */
export const ALL_EXIT_STATUSES = Object.values(ExitCode);
