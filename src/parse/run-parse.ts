import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { EventWriter } from '../codec/event-writer.js';
import type { InputFormat } from '../codec/read-events.js';
import type { LogEvent } from '../event/event.js';
import { CliError, ExitCode } from '../base/exit-codes.js';
import { LinearRegex } from '../regex/linear-regex.js';
import { CommandMetrics, type MetricsSettings } from '../metrics/command-metrics.js';
import { MetricsRegistry } from '../metrics/registry.js';
import { filterStageMetrics } from '../metrics/stage-metrics.js';
import { log } from '../log/logger.js';
import { pumpEvents } from '../stream/pump.js';
import type { StageIO } from '../stream/stage-io.js';
import { parseFieldTypes, type FieldConversion } from './field-types.js';
import { ParseStage } from './parse-stage.js';
import { createLineParser, type ParseFormat } from './parsers.js';
import { createTimeParser, type TimeParser } from './time/time-parser.js';
import { TimeZone } from './time/zone.js';

export interface ParseCommandOptions {
  files: readonly string[];
  input: InputFormat;
  output: string | undefined;
  format: ParseFormat;
  key: string;
  pattern: string | undefined;
  fields: string | undefined;
  types: string | undefined;
  keepOriginal: boolean;
  removeKey: boolean;
  nest: string | undefined;
  timeKey: string | undefined;
  timeFormat: string | undefined;
  timezone: string;
  keepTimeKey: boolean;
  errors: string | undefined;
  errorKey: string;
  metrics?: MetricsSettings;
}

const usage = (message: string): CliError => new CliError(`parse: ${message}`, ExitCode.USAGE);

/** Turns the command line into a ParseStage, refusing contradictory or malformed options (exit 64). */
export function buildParseStage(o: ParseCommandOptions): ParseStage {
  // yargs turns a repeated string option into an array; each of these takes one value.
  for (const [name, value] of Object.entries(o)) {
    if (name !== 'files' && Array.isArray(value)) throw usage(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} given more than once`);
  }
  const zone = TimeZone.parse(o.timezone);
  if (!zone) throw usage(`--timezone "${o.timezone}" is not local, UTC, an offset like +09:00 or an IANA zone like Europe/Berlin`);
  if (o.format === 'regexp' && o.pattern === undefined) throw usage('regexp needs --pattern with named groups, e.g. --pattern \'^(?<level>\\w+) (?<message>.*)$\'');
  if (o.format !== 'regexp' && o.pattern !== undefined) throw usage('--pattern applies to the regexp format only');
  const pattern = o.pattern !== undefined ? LinearRegex.compile(o.pattern, 'parse: --pattern') : undefined;
  if (pattern && pattern.names.length === 0) throw usage(`--pattern /${pattern.source}/ has no named groups (?<name>...)`);
  const isDelimited = o.format === 'csv' || o.format === 'tsv';
  let fields: string[] | undefined;
  if (isDelimited) {
    if (o.fields === undefined) throw usage(`${o.format} needs --fields naming the columns, e.g. --fields time,level,message`);
    fields = o.fields.split(',').map((f) => f.trim());
    if (fields.some((f) => f === '')) throw usage(`--fields "${o.fields}" has an empty name`);
    if (new Set(fields).size !== fields.length) throw usage(`--fields "${o.fields}" names a column twice`);
  } else if (o.fields !== undefined) {
    throw usage('--fields applies to the csv and tsv formats only');
  }
  let types: FieldConversion[] = [];
  if (o.types !== undefined) {
    try {
      types = parseFieldTypes(o.types);
    } catch (error) {
      throw usage(`--types: ${(error as Error).message}`);
    }
  }
  const parser = createLineParser(o.format, { pattern, fields, zone });
  if (parser.ownsTime && o.timeKey !== undefined) {
    throw usage(`--time-key does not apply to ${o.format}: its lines carry their own time (override how it is read with --time-format)`);
  }
  let timeParser: TimeParser | undefined;
  try {
    if (o.timeFormat !== undefined) timeParser = createTimeParser(o.timeFormat, zone);
    else if (!parser.ownsTime) timeParser = createTimeParser('auto', zone);
  } catch (error) {
    throw usage(`--time-format: ${(error as Error).message}`);
  }
  if (o.nest === '') throw usage('--nest needs a field name');
  return new ParseStage({
    parser,
    key: o.key,
    keepOriginal: o.keepOriginal,
    removeKey: o.removeKey,
    nest: o.nest,
    timeKey: o.timeKey ?? 'time',
    timeParser,
    keepTimeKey: o.keepTimeKey,
    types,
    errorKey: o.errorKey,
  });
}

export async function runParse(o: ParseCommandOptions, io: StageIO): Promise<void> {
  if (o.removeKey && !o.keepOriginal) throw usage('--remove-key goes with --keep-original (without it the original record is dropped anyway)');
  const stage = buildParseStage(o);
  const writer = io.output.writer(o.output);
  const errorSink = o.errors !== undefined ? await openErrorSink(o.errors) : undefined;
  const failures: LogEvent[] = [];
  const registry = new MetricsRegistry('parse');
  const { eventsIn } = filterStageMetrics(registry, writer);
  registry.observe({ name: 'logkit_parse_failures_total', help: 'Lines that did not parse', type: 'counter', stat: 'parse_failures' }, () => stage.failed);
  const metrics = await CommandMetrics.start(registry, o.metrics ?? {});
  try {
    // entries stay bytes but for the field parsed: the rest is copied through
    await pumpEvents(o.files, { format: o.input, entries: 'raw' }, writer, async (events) => {
      eventsIn.inc(events.length);
      if (!errorSink) return stage.process(events);
      const parsed = stage.process(events, failures);
      if (failures.length > 0) {
        await errorSink.writer.write(failures);
        failures.length = 0;
      }
      return parsed;
    }, io);
  } finally {
    if (errorSink) await errorSink.close();
    if (stage.failed > 0) {
      const where = o.errors !== undefined ? `; written to ${o.errors}` : `; marked with the field ${o.errorKey}`;
      log.warn(`${stage.failed} of ${stage.seen} lines did not parse as ${o.format}${where} (first: ${stage.firstError})`);
    }
    await metrics.finish();
  }
}

interface ErrorSink {
  writer: EventWriter;
  close(): Promise<void>;
}

/** --errors FILE: NDJSON events appended, one write per batch. */
async function openErrorSink(path: string): Promise<ErrorSink> {
  const stream: WriteStream = createWriteStream(path, { flags: 'a' });
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new CliError(`parse: cannot open --errors ${path}: ${(error as Error).message}`, ExitCode.CANT_CREATE);
  }
  let failure: Error | undefined;
  stream.on('error', (error) => {
    failure = error;
  });
  const writer = new EventWriter(stream, 'json');
  return {
    writer,
    async close() {
      await writer.flush();
      stream.end();
      if (!stream.closed && !failure) await once(stream, 'close').catch(() => undefined);
      if (failure) throw new CliError(`parse: cannot write --errors ${path}: ${failure.message}`, ExitCode.IO_ERROR);
    },
  };
}
