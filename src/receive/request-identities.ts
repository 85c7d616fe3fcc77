import type { Unpackr } from 'msgpackr/unpack';
import type { LogEvent } from '../event/event.js';
import { chunkIdentity } from '../event/source-position.js';
import { readIdentities, type Identity } from '../protocol/identity-option.js';
import type { ParsedRequest } from '../protocol/request.js';

/**
 * The identity of each entry of one request, as receive restores it into `options.src` (what
 * the stores de-duplicate on):
 * - the identity the sender carried for it (a logkit forward: the position `tail` read the line
 *   at, see identity-option.ts);
 * - otherwise, when the request has a chunk id, `{id: "chunk:<chunk id>", off: <entry index>}`,
 *   the same for every resend of the chunk, so a resend after a lost ack is recognised by the
 *   stores as well (whatever aggregator it reaches);
 * - otherwise none (a request without ack cannot be resent, so it needs none).
 */
export class RequestIdentities {
  private constructor(
    private readonly carried: ReadonlyArray<Identity | undefined> | undefined,
    private readonly chunkKey: string | undefined,
  ) {}

  /**
   * `entries`: how many entries the request holds (the carried runs must cover exactly that
   * many); undefined when not counted yet: then the caller checks `carriedCount` against the
   * count once it has one. An unusable carrier is reported through `problem` and ignored.
   */
  static of(request: ParsedRequest, entries: number | undefined, unpackr: Unpackr, problem: (why: string) => void): RequestIdentities | undefined {
    let carried: Array<Identity | undefined> | undefined;
    if (request.identities) {
      let value: unknown;
      let result: Array<Identity | undefined> | string;
      try {
        value = unpackr.unpack(request.identities);
        result = readIdentities(value, entries);
      } catch (error) {
        result = (error as Error).message;
      }
      if (typeof result === 'string') problem(`the chunk's identities are unusable (${result}); its events get receive's own`);
      else carried = result;
    }
    const chunkKey = request.chunk ? request.chunk.toString('base64') : undefined;
    if (!carried && chunkKey === undefined) return undefined;
    return new RequestIdentities(carried, chunkKey);
  }

  /** How many entries the carried identities cover (undefined: none carried). */
  get carriedCount(): number | undefined {
    return this.carried?.length;
  }

  identityOf(index: number): Identity | undefined {
    return this.carried?.[index] ?? (this.chunkKey === undefined ? undefined : chunkIdentity(this.chunkKey, index));
  }

  /** Sets `options.src` of `events[from…]`, the request's entries from `firstIndex` on. */
  assign(events: LogEvent[], from: number, firstIndex: number): void {
    for (let i = from; i < events.length; i++) {
      const src = this.identityOf(firstIndex + i - from);
      if (src === undefined) continue;
      const event = events[i]!;
      event.options = event.options ? { ...event.options, src } : { src };
    }
  }
}
