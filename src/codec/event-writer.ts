import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { LogEvent } from '../event/event.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { eventToJSON } from './ndjson.js';
import { PrettyFormatter } from './pretty.js';

import { OUTPUT_FORMATS, type OutputFormat } from './stream-formats.js';
export { OUTPUT_FORMATS, type OutputFormat } from './stream-formats.js';

/**
 * The format a stage writes: what the user forced with `--output`, otherwise MessagePack to a
 * pipe or file and the human format to a terminal.
 */
export function resolveOutputFormat(requested: string | undefined, isTTY: boolean | undefined): OutputFormat {
  if (requested && (OUTPUT_FORMATS as readonly string[]).includes(requested)) return requested as OutputFormat;
  return isTTY ? 'pretty' : 'msgpack';
}

/** Color for the human format: a terminal, unless NO_COLOR is set; FORCE_COLOR turns it on anywhere. */
export function colorWanted(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return Boolean(isTTY) && env.TERM !== 'dumb';
}

/**
 * Writes batches of events to a stream in one format: each batch is encoded into a single
 * buffer and written once; `write` waits for 'drain' when the stream pushes back.
 */
export class EventWriter {
  private readonly msgpack = new MsgpackWriter();
  private pretty: PrettyFormatter | undefined;
  written = 0;
  /** Bytes handed to the stream (for the metrics: read, never reset). */
  bytesWritten = 0;

  constructor(
    private readonly out: Writable,
    readonly format: OutputFormat,
    private readonly color = false,
  ) {}

  encode(events: readonly LogEvent[]): Buffer | string {
    switch (this.format) {
      case 'msgpack':
        for (let i = 0; i < events.length; i++) this.msgpack.writeEntry(events[i]!);
        return this.msgpack.take();
      case 'json': {
        let text = '';
        for (let i = 0; i < events.length; i++) text += eventToJSON(events[i]!) + '\n';
        return text;
      }
      case 'pretty':
        this.pretty ??= new PrettyFormatter(this.color);
        return this.pretty.format(events);
    }
  }

  async write(events: readonly LogEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.written += events.length;
    const data = this.encode(events);
    this.bytesWritten += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (!this.out.write(data)) await once(this.out, 'drain');
  }

  /** Resolves once everything written has been handed to the OS. */
  async flush(): Promise<void> {
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
  }
}
