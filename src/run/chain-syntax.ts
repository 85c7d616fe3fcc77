import { CliError, ExitCode } from '../base/exit-codes.js';

/** Longest chain text read (a chain is a command line, not data). */
export const MAX_CHAIN_CHARS = 64 * 1024;

/**
 * Splits a chain, `tail app.log | parse json | forward agg:24224`, into the argument lists of
 * its stages, with the quoting of a POSIX shell's simple commands: words split at blanks,
 * '…' taken literally, "…" with \" \\ \$ \` escapes, a backslash escaping the next character,
 * and an unquoted | between stages. Nothing is expanded (no $VAR, globs or ~): a chain is the
 * same text whether a shell or logkit splits it, so a quoted glob reaches `tail` as written.
 */
export function splitChain(text: string): string[][] {
  if (text.length > MAX_CHAIN_CHARS) throw usage(`the chain is longer than ${MAX_CHAIN_CHARS} characters`);
  const stages: string[][] = [[]];
  let word: string | undefined;
  const endWord = (): void => {
    if (word !== undefined) stages[stages.length - 1]!.push(word);
    word = undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      endWord();
    } else if (c === '|') {
      endWord();
      stages.push([]);
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw usage('the chain ends with a lone backslash');
      word = (word ?? '') + text[++i]!;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw usage(`unterminated ' at character ${i + 1}`);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let quoted = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && j + 1 < text.length && '"\\$`'.includes(text[j + 1]!)) j++;
        quoted += text[j]!;
      }
      if (j >= text.length) throw usage(`unterminated " at character ${i + 1}`);
      word = (word ?? '') + quoted;
      i = j;
    } else {
      word = (word ?? '') + c;
    }
  }
  endWord();
  return checkStages(stages);
}

function checkStages(stages: string[][]): string[][] {
  if (stages.length === 1 && stages[0]!.length === 0) throw usage('the chain is empty: name at least one command, e.g. \'tail app.log | parse json\'');
  const empty = stages.findIndex((stage) => stage.length === 0);
  if (empty >= 0) throw usage(`stage ${empty + 1} of the chain is empty (a | with no command beside it)`);
  return stages;
}

function usage(message: string): CliError {
  return new CliError(`run: ${message}`, ExitCode.USAGE);
}
