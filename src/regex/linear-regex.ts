import { RE2JS } from 're2js';
import { CliError, ExitCode } from '../base/exit-codes.js';

/** Longest pattern a user may pass; bounds compile time and memory. */
export const MAX_PATTERN_LENGTH = 4096;

/**
 * A user-supplied regular expression, run by RE2JS (a pure-JS port of RE2): matching time is
 * linear in the input whatever the pattern, so a hostile log line cannot hang a collector the
 * way a backtracking engine can (Fluentd's apache2 parser had a ReDoS CVE). RE2 syntax: no
 * backreferences or lookahead; named groups are `(?<name>...)` or `(?P<name>...)`.
 *
 * `/REGEX/flags` (flags: i, m, s) and a bare REGEX are both accepted.
 */
export class LinearRegex {
  readonly names: readonly string[];
  /** Group number of each name in `names`, same order. */
  readonly indexes: readonly number[];

  private constructor(
    private readonly re: RE2JS,
    readonly source: string,
  ) {
    const named = re.namedGroups();
    this.names = Object.keys(named);
    this.indexes = this.names.map((name) => named[name]!);
  }

  /** Compiles a pattern; a bad one is a usage error (exit 64) naming `what` it was for. */
  static compile(text: string, what: string): LinearRegex {
    if (text.length > MAX_PATTERN_LENGTH) throw new CliError(`${what}: pattern longer than ${MAX_PATTERN_LENGTH} characters`, ExitCode.USAGE);
    let source = text;
    let flags = 0;
    const slashed = /^\/(.*)\/([a-z]*)$/s.exec(text);
    if (slashed) {
      source = slashed[1]!;
      for (const flag of slashed[2]!) {
        if (flag === 'i') flags |= RE2JS.CASE_INSENSITIVE;
        else if (flag === 'm') flags |= RE2JS.MULTILINE;
        else if (flag === 's') flags |= RE2JS.DOTALL;
        else throw new CliError(`${what}: unknown regular expression flag "${flag}" (i, m and s are supported)`, ExitCode.USAGE);
      }
    }
    try {
      return new LinearRegex(RE2JS.compile(source, flags), source);
    } catch (error) {
      throw new CliError(`${what}: invalid regular expression /${source}/: ${(error as Error).message}`, ExitCode.USAGE);
    }
  }

  test(text: string): boolean {
    return this.re.test(text);
  }

  /** The match and its groups (index 0 the whole match; unmatched groups undefined or null), or null. */
  exec(text: string): ReadonlyArray<string | null | undefined> | null {
    return this.re.exec(text);
  }

  groupCount(): number {
    return this.re.groupCount();
  }
}
