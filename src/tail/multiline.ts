import { appendBounded, byteLength, textForMatching, type LineUnit } from './line-unit.js';
import { LinearRegex } from '../regex/linear-regex.js';

import type { MultilineMode } from './tail-choices.js';
export { MULTILINE_MODES, type MultilineMode } from './tail-choices.js';

/** Decides, line by line, whether a line continues the group being assembled. */
export interface MultilineRule {
  /** Called for the first line of every group. */
  begin(line: string): void;
  continues(line: string): boolean;
}

/**
 * `--multiline-start REGEX`: a line matching REGEX starts a group; any other line continues it.
 * The pattern runs on RE2 (linear time), so a hostile line cannot hang tail whatever the pattern.
 */
export class StartPatternRule implements MultilineRule {
  constructor(private readonly start: LinearRegex) {}
  begin(): void {}
  continues(line: string): boolean {
    return !this.start.test(line);
  }
}

/**
 * Java stack traces: frames (`\tat …`, `\t... 12 more`) and every indented line continue, as do
 * `Caused by:` and `Suppressed:` headers; any other line starts a new event. So
 * `java.lang.IllegalStateException: boom` plus its frames and causes become one event.
 */
export class JavaRule implements MultilineRule {
  begin(): void {}
  continues(line: string): boolean {
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) return true;
    return line.startsWith('Caused by:') || line.startsWith('Suppressed:');
  }
}

const TRACEBACK = 'Traceback (most recent call last):';
const CHAINED = /^(During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)$/;

/**
 * Python tracebacks: `Traceback (most recent call last):`, its indented frame lines, and the
 * exception line that ends it (the first line without indentation) are one event; chained
 * exceptions ("During handling of the above exception…", "The above exception was the direct
 * cause…", with their blank lines and next Traceback) stay in the same event.
 */
export class PythonRule implements MultilineRule {
  private state: 'plain' | 'frames' | 'ended' = 'plain';
  begin(line: string): void {
    this.state = line === TRACEBACK ? 'frames' : 'plain';
  }
  continues(line: string): boolean {
    const indented = line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9;
    switch (this.state) {
      case 'frames':
        if (!indented) this.state = 'ended'; // the exception line closes the traceback
        return true;
      case 'ended':
        if (line === TRACEBACK) {
          this.state = 'frames';
          return true;
        }
        return line === '' || CHAINED.test(line);
      case 'plain':
        return false;
    }
  }
}

/** A maker of fresh rules (each source needs its own: rules keep state), or undefined for one event per line. */
export function multilineFactory(mode: MultilineMode | undefined, startPattern: string | undefined): (() => MultilineRule) | undefined {
  if (!mode && startPattern === undefined) return undefined;
  return () => multilineRule(mode, startPattern)!;
}

export function multilineRule(mode: MultilineMode | undefined, startPattern: string | undefined): MultilineRule | undefined {
  if (startPattern !== undefined) return new StartPatternRule(LinearRegex.compile(startPattern, 'tail: --multiline-start'));
  if (mode === 'java') return new JavaRule();
  if (mode === 'python') return new PythonRule();
  return undefined;
}

/**
 * Groups consecutive lines into one event per rule. The group being assembled is held until a
 * line starts the next one, or until the caller's flush timeout; it is bounded by `maxBytes`
 * (further lines are dropped and the event is flagged `truncated`). The group's end offset is
 * that of its last line, so a position never passes a line that has not been emitted.
 */
export class MultilineGrouper {
  private group: LineUnit | undefined;
  private size = { bytes: 0 };

  constructor(
    private readonly rule: MultilineRule,
    private readonly maxBytes: number,
  ) {}

  get holding(): boolean {
    return this.group !== undefined;
  }

  reset(): void {
    this.group = undefined;
  }

  push(units: readonly LineUnit[], out: LineUnit[]): void {
    for (const unit of units) {
      const line = textForMatching(unit.text);
      if (this.group && this.rule.continues(line)) {
        appendBounded(this.group, unit, '\n', this.maxBytes, this.size);
        continue;
      }
      if (this.group) out.push(this.finish(this.group));
      this.rule.begin(line);
      this.group = { ...unit };
      this.size.bytes = byteLength(unit.text);
    }
  }

  flush(out: LineUnit[]): void {
    if (this.group) out.push(this.finish(this.group));
    this.group = undefined;
  }

  private finish(group: LineUnit): LineUnit {
    // blank lines absorbed between chained tracebacks may trail the group: not part of it
    if (typeof group.text === 'string' && group.text.endsWith('\n')) group.text = group.text.replace(/\n+$/, '');
    return group;
  }
}
