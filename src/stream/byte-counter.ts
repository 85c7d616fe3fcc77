/** Wraps a byte source to count what has been read (the batch byte bound measures input bytes). */
export class ByteCounter {
  bytes = 0;
  readonly source: AsyncIterable<Buffer>;

  constructor(input: AsyncIterable<Buffer>) {
    const counter = this;
    this.source = (async function* () {
      for await (const chunk of input) {
        counter.bytes += chunk.length;
        yield chunk;
      }
    })();
  }
}
