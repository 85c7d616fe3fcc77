import type { Readable } from 'node:stream';
import type { EventWriter } from '../codec/event-writer.js';
import { LinePipeline, type PipelineOptions } from './line-pipeline.js';

/**
 * `logkit tail -`: lines from standard input, with the same line handling as files (partial
 * line flush, multiline, container formats, line limit). There is nothing to resume, so events
 * carry no source position, and everything held is let out at the end or on SIGTERM.
 */
export async function tailStream(
  input: Readable,
  options: PipelineOptions,
  writer: EventWriter,
  timing: { partialFlushMs: number; multilineFlushMs: number },
  stopSignal: { onStop(fn: () => void): void },
): Promise<void> {
  const pipeline = new LinePipeline(options, 0);
  let stopped = false;
  stopSignal.onStop(() => {
    stopped = true;
    input.destroy();
  });
  const tick = Math.max(50, Math.min(timing.partialFlushMs, timing.multilineFlushMs) / 2);
  let writing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    writing = writing.then(() => writer.write(pipeline.flushIdle(Date.now(), timing.partialFlushMs, timing.multilineFlushMs)));
  }, tick);
  try {
    for await (const chunk of input) {
      await writing;
      await writer.write(pipeline.push(chunk as Buffer));
    }
  } catch (error) {
    if (!stopped) throw error;
  } finally {
    clearInterval(timer);
  }
  await writing;
  await writer.write(pipeline.flushAll());
  await writer.flush();
}
