/**
 * The typed option schema of a command: the single source for its yargs definition (`--help`),
 * its man page and the shell completions (see generate-docs.ts), and for the types of the
 * arguments its `run` receives.
 */
import type { StageIO } from '../stream/stage-io.js';

import type { ExitCodeValue } from '../base/exit-codes.js';

/**
 * duration: a time span with a unit (250ms, 5s, 2m, 1h; a bare number is seconds); size: a byte
 * count with a unit (64k, 1m, 1g; a bare number is bytes), see units.ts. `run` receives them as
 * numbers: milliseconds and bytes.
 */
export type OptionType = 'string' | 'number' | 'boolean' | 'duration' | 'size';

/** What a shell should complete for a value. */
export type Completion = 'file' | 'directory' | 'none';

export interface OptionSpec {
  readonly type: OptionType;
  readonly describe: string;
  readonly alias?: string;
  /** For a duration or size, written as on the command line, with its unit: '50ms', '1m'. */
  readonly default?: string | number | boolean;
  /** Shown in --help and the man page instead of the literal default (e.g. "CPU count"). */
  readonly defaultDescription?: string;
  readonly choices?: readonly string[];
  /** Repeatable: the value is an array. */
  readonly array?: boolean;
  readonly required?: boolean;
  /** Placeholder for the value in the man page synopsis, e.g. FILE or HOST:PORT (DURATION and SIZE for those types). */
  readonly value?: string;
  /**
   * Bounds checked when the command line is parsed (a value outside is a usage error). For a
   * duration or size they are written as on the command line: min: '1ms', max: '256m'.
   */
  readonly min?: number | string;
  readonly max?: number | string;
  /** A number option that takes whole numbers only. */
  readonly integer?: boolean;
  readonly completion?: Completion;
  /** Section heading the option is grouped under in --help and the man page. */
  readonly group?: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly describe: string;
  readonly type: 'string' | 'number';
  readonly variadic?: boolean;
  readonly required?: boolean;
  readonly choices?: readonly string[];
  readonly completion?: Completion;
}

export interface CommandSpec {
  readonly name: string;
  /** One line, for the command list and the man page NAME section. */
  readonly summary: string;
  /** Paragraphs for the man page DESCRIPTION and the top of --help. */
  readonly description: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples: ReadonlyArray<readonly [command: string, explanation: string]>;
  /**
   * Every exit status the command can return besides 0, 64 and 70 (which all can), for its man
   * page; test/cli/exit-statuses.test.ts checks it against the codes its modules use.
   */
  readonly exitStatuses: readonly ExitCodeValue[];
  /** Options removed by a rename (old name → new name): giving one is a usage error naming the new one. */
  readonly renamed?: Readonly<Record<string, string>>;
  /** Extra man page sections, e.g. ["FILES", "…"]. */
  readonly sections?: ReadonlyArray<readonly [heading: string, text: string]>;
}

// ----------------------------------------------------------------------------- argument types

type Scalar<O extends OptionSpec> = O['choices'] extends readonly (infer C)[]
  ? C
  : O['type'] extends 'number' | 'duration' | 'size'
    ? number
    : O['type'] extends 'boolean'
      ? boolean
      : string;

type OptionValue<O extends OptionSpec> = O['array'] extends true
  ? Scalar<O>[]
  : O extends { default: unknown } | { required: true }
    ? Scalar<O>
    : O['type'] extends 'boolean'
      ? boolean
      : Scalar<O> | undefined;

type PositionalScalar<P extends PositionalSpec> = P['choices'] extends readonly (infer C)[]
  ? C
  : P['type'] extends 'number'
    ? number
    : string;

type PositionalValue<P extends PositionalSpec> = P['variadic'] extends true
  ? PositionalScalar<P>[]
  : P['required'] extends true
    ? PositionalScalar<P>
    : PositionalScalar<P> | undefined;

type CamelCase<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

type PositionalArgs<Ps extends readonly PositionalSpec[]> = {
  [P in Ps[number] as CamelCase<P['name']>]: PositionalValue<P>;
};

/** The parsed arguments of a command, typed from its spec (option names camel-cased as yargs does). */
export type ArgsOf<S extends CommandSpec> = {
  [K in keyof S['options'] & string as CamelCase<K>]: OptionValue<S['options'][K]>;
} & PositionalArgs<S['positionals']>;

/** A command module: the schema, and the call into src/ that does the work. */
export interface CommandModule<S extends CommandSpec = CommandSpec> {
  spec: S;
  /** `io`: its input, output and the process's shutdown signal (stdin/stdout, or its neighbours in `logkit run`). */
  run(args: ArgsOf<S>, io: StageIO): Promise<void>;
}

export function defineCommand<const S extends CommandSpec>(spec: S, run: (args: ArgsOf<S>, io: StageIO) => Promise<void>): CommandModule<S> {
  return { spec, run };
}

/** The usage line, e.g. `logkit cat [FILE...]`. */
export function usageLine(spec: CommandSpec): string {
  const parts = spec.positionals.map((p) => {
    const name = p.name.toUpperCase() + (p.variadic ? '...' : '');
    return p.required ? name : `[${name}]`;
  });
  return ['logkit', spec.name, '[OPTIONS]', ...parts].join(' ');
}
