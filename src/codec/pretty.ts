import { createRequire } from 'node:module';
import type { LogEvent } from '../event/event.js';
import { valueToJSON } from './ndjson.js';
import type * as ChalkModule from 'chalk';

const LEVEL_KEYS = ['level', 'severity', 'lvl', 'loglevel', 'log_level', 'levelname'];
const MESSAGE_KEYS = ['message', 'msg', 'log'];

type Paint = (text: string) => string;

/** The colors of the human format: dim for times and field names, cyan for tags, one per level. */
interface Palette {
  readonly dim: Paint;
  readonly cyan: Paint;
  /** By normalized level name; a level not here is left unpainted. */
  readonly levels: Readonly<Record<string, Paint>>;
}

const unpainted: Paint = (text) => text;

/** No color: what chalk at level 0 paints, without loading chalk (~15 ms of start-up). */
const PLAIN: Palette = { dim: unpainted, cyan: unpainted, levels: {} };

/** The palette on a terminal, 16 colors (which every terminal has). */
function colorPalette(): Palette {
  const { Chalk } = createRequire(import.meta.url)('chalk') as typeof ChalkModule;
  const c = new Chalk({ level: 1 });
  return {
    dim: c.dim,
    cyan: c.cyan,
    levels: {
      TRACE: c.gray, DEBUG: c.gray, INFO: c.green, NOTICE: c.cyan,
      WARN: c.yellow, ERROR: c.red, CRIT: c.redBright.bold, ALERT: c.redBright.bold, FATAL: c.redBright.bold,
    },
  };
}

/**
 * The human format: one aligned line per event —
 * `TIME  TAG  LEVEL  MESSAGE  key=value …` — colored by level when color is on.
 * Columns widen as wider tags arrive (a stream cannot know its widest tag in advance).
 */
export class PrettyFormatter {
  private tagWidth = 8;
  private readonly palette: Palette;

  constructor(color: boolean) {
    this.palette = color ? colorPalette() : PLAIN;
  }

  format(events: readonly LogEvent[]): string {
    let out = '';
    for (const event of events) out += this.line(event) + '\n';
    return out;
  }

  private line(event: LogEvent): string {
    const c = this.palette;
    const { record } = event;
    if (event.tag.length > this.tagWidth) this.tagWidth = Math.min(event.tag.length, 40);
    const levelKey = LEVEL_KEYS.find((k) => record[k] !== undefined);
    const messageKey = MESSAGE_KEYS.find((k) => typeof record[k] === 'string');
    const level = levelKey ? normalizeLevel(record[levelKey]) : '';
    const paint: Paint = c.levels[level] ?? unpainted;
    let line = `${c.dim(event.time.toISO())}  ${c.cyan(event.tag.padEnd(this.tagWidth))}  ${paint(level.padEnd(5))}`;
    if (messageKey) line += `  ${paint(String(record[messageKey]).replace(/\n/g, '\\n'))}`;
    for (const key of Object.keys(record)) {
      if (key === levelKey || key === messageKey) continue;
      line += `  ${c.dim(key + '=')}${fieldText(record[key])}`;
    }
    return line;
  }
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return valueToJSON(value, 2); // a field of the record
}

/** Maps the many spellings of a level (numbers from syslog/bunyan too) to one of nine names. */
export function normalizeLevel(value: unknown): string {
  if (typeof value === 'number') {
    if (value >= 10 && value <= 60) return ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'][Math.floor(value / 10) - 1]!; // bunyan/pino
    return ['FATAL', 'ALERT', 'CRIT', 'ERROR', 'WARN', 'NOTICE', 'INFO', 'DEBUG'][value] ?? String(value); // syslog severity
  }
  const text = String(value).toUpperCase();
  if (text.startsWith('WARN')) return 'WARN';
  if (text.startsWith('ERR')) return 'ERROR';
  if (text.startsWith('CRIT')) return 'CRIT';
  if (text === 'EMERG' || text === 'PANIC') return 'FATAL';
  if (text.startsWith('INF')) return 'INFO';
  if (text.startsWith('DEB') || text === 'DBG') return 'DEBUG';
  if (text.startsWith('TRA')) return 'TRACE';
  return text.slice(0, 5);
}
