import type { LogEvent } from '../../event/event.js';
import { MsgpackWriter } from '../../codec/msgpack-writer.js';
import { eventToJSON, valueToJSON } from '../../codec/ndjson.js';

import type { FileFormat } from '../store-choices.js';
export { FILE_FORMATS, type FileFormat } from '../store-choices.js';

/**
 * Encodes a group of events bound for one file into one buffer: NDJSON (logkit's event lines),
 * MessagePack (Message-mode entries, what `logkit cat` and Fluentd read), or text (the message
 * field alone, one a line; a record without it is written as its JSON).
 */
export class FileEncoder {
  private readonly msgpack = new MsgpackWriter();

  constructor(
    readonly format: FileFormat,
    private readonly messageKey: string,
  ) {}

  encode(events: readonly LogEvent[]): Buffer {
    switch (this.format) {
      case 'msgpack':
        for (let i = 0; i < events.length; i++) this.msgpack.writeEntry(events[i]!);
        return this.msgpack.take();
      case 'ndjson': {
        let text = '';
        for (let i = 0; i < events.length; i++) text += eventToJSON(events[i]!) + '\n';
        return Buffer.from(text);
      }
      case 'text': {
        let text = '';
        for (let i = 0; i < events.length; i++) {
          const value = events[i]!.record[this.messageKey];
          text += (typeof value === 'string' ? value : valueToJSON(value === undefined ? events[i]!.record : value)) + '\n';
        }
        return Buffer.from(text);
      }
    }
  }
}
