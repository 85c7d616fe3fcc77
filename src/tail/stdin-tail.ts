import type { EventWriter } from '../codec/event-writer.js';
import { LinePipeline, type PipelineOptions } from './line-pipeline.js';
import type { StageInput } from '../stream/stage-io.js';
import { onAbort } from '../stream/shutdown.js';

/**
 * `logkit tail -`: lines from standard input, with the same line handling as files (partial
 * line flush, multiline, container formats, line limit). There is nothing to resume, so events
 * carry no source position, and everything held is let out at the end or on SIGTERM.
 */
export async function tailStream(
  input: StageInput,
  options: PipelineOptions,
  writer: EventWriter,
  timing: { partialFlushMs: number; multilineFlushMs: number },
  signal: AbortSignal,
): Promise<void> {
  const pipeline = new LinePipeline(options, 0);
  let stopped = false;
  const forget = onAbort(signal, () => {
    stopped = true;
    input.close();
  });
  const tick = Math.max(50, Math.min(timing.partialFlushMs, timing.multilineFlushMs) / 2);
  let writing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    writing = writing.then(() => writer.write(pipeline.flushIdle(Date.now(), timing.partialFlushMs, timing.multilineFlushMs)));
  }, tick);
  try {
    for await (const chunk of input.bytes()) {
      await writing;
      await writer.write(pipeline.push(chunk as Buffer));
    }
  } catch (error) {
    if (!stopped) throw error;
  } finally {
    clearInterval(timer);
    forget();
  }
  await writing;
  await writer.write(pipeline.flushAll());
  await writer.flush();
}
