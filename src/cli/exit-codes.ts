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

export const EXIT_STATUS_TEXT = `0 success; 64 usage error (unknown command or option, bad value); 65 bad input data \
(corrupt MessagePack, invalid NDJSON); 66 an input file does not exist; 69 a server or destination is unavailable; \
70 internal error; 74 I/O error; 75 temporary failure, try again (e.g. a buffer limit reached with --overflow fail).`;
