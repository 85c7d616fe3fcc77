/**
 * The identity carrier: a logkit extension of the forward protocol that sends each event's
 * identity (its source position `{id, off}`, see `options.src`) with a PackedForward chunk, in
 * one extra key of the chunk's option map:
 *
 *     [tag, bin(entries), {size: N, chunk: "…", logkit_src: [run, run, …]}]
 *
 *     run = [id, count, off₁, off₂−off₁, …, offₙ−offₙ₋₁]   n = count entries of source `id`, in order
 *         | [nil, count]                                 count entries without an identity
 *
 * The runs cover the chunk's entries in order (their counts add up to `size`). Offsets are
 * delta-coded, so a run of consecutive lines costs about one byte per event (a line length
 * under 128), and nothing per event for the source id.
 *
 * Why an option key, not the v1.5 entry form `[[time, {src}], record]`: the entries stay the
 * plain `[time, record]` every peer reads (older Fluentd rejects the v1.5 form), and Fluentd's
 * and Fluent Bit's in_forward ignore option keys they do not know, so a chunk that carries
 * identities is still a valid chunk for them. A logkit receiver says that it restores them by an
 * extra key in its ack, `{ack: "…", logkit_src: true}` (Fluentd's and Fluent Bit's out_forward
 * read only `ack`).
 */
import type { SourcePositionOption } from '../event/source-position.js';
import { MsgpackWriter } from '../codec/msgpack-writer.js';

export const IDENTITY_OPTION = 'logkit_src';

/** An event's identity (`options.src`): the source (a file identity, a receive buffer, a chunk) and a position in it. */
export type Identity = SourcePositionOption;

/** Collects the identities of a chunk's entries, in order, into runs. */
export class IdentityRuns {
  private readonly runs: Array<{ id: string | undefined; offs: number[]; count: number }> = [];
  private identified = 0;

  /** The next entry's identity (undefined: the entry has none). */
  add(identity: Identity | undefined): void {
    const id = identity?.id;
    let run = this.runs.at(-1);
    if (run === undefined || run.id !== id) {
      run = { id, offs: [], count: 0 };
      this.runs.push(run);
    }
    run.count++;
    if (identity !== undefined) {
      run.offs.push(identity.off);
      this.identified++;
    }
  }

  /** The option value (MessagePack), or undefined when no entry had an identity; resets the runs. */
  take(): Buffer | undefined {
    if (this.identified === 0) {
      this.runs.length = 0;
      return undefined;
    }
    const w = new MsgpackWriter(16 + this.identified * 2 + this.runs.length * 48);
    w.writeArrayHeader(this.runs.length);
    for (const run of this.runs) {
      if (run.id === undefined) {
        w.writeArrayHeader(2);
        w.writeValue(null);
        w.writeNumber(run.count);
        continue;
      }
      w.writeArrayHeader(2 + run.count);
      w.writeString(run.id);
      w.writeNumber(run.count);
      let last = 0;
      for (const off of run.offs) {
        w.writeNumber(off - last);
        last = off;
      }
    }
    this.runs.length = 0;
    this.identified = 0;
    return w.take();
  }
}

/**
 * The option value for these identities, in order (undefined when none has one): what a part of
 * a chunk carries when the chunk is cut (forward/chunk-split.ts), from its `readIdentities`.
 */
export function encodeIdentities(identities: Iterable<Identity | undefined>): Buffer | undefined {
  const runs = new IdentityRuns();
  for (const identity of identities) runs.add(identity);
  return runs.take();
}

/**
 * Reads a decoded `logkit_src` value for a chunk of `entries` entries: one identity (or
 * undefined) per entry, or a string saying why the value is unusable (then the chunk is treated
 * as carrying no identities: a wrong identity could make a store drop an event it never had).
 * `entries` undefined: the count is not known yet, and the caller checks the result's length
 * against it once it is.
 */
export function readIdentities(value: unknown, entries = Infinity): Array<Identity | undefined> | string {
  if (!Array.isArray(value)) return 'not an array of runs';
  const out: Array<Identity | undefined> = [];
  for (const run of value) {
    if (!Array.isArray(run) || run.length < 2) return 'a run is not [id, count, offsets…]';
    const [id, count] = run as [unknown, unknown];
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || out.length + count > entries) return 'run counts exceed the entries';
    if (id === null || id === undefined) {
      if (run.length !== 2) return 'a run without id has offsets';
      for (let i = 0; i < count; i++) out.push(undefined);
      continue;
    }
    if (typeof id !== 'string' || id.length === 0) return 'a run id is not a string';
    if (run.length !== 2 + count) return `a run announces ${count} entries and holds ${run.length - 2} offsets`;
    let off = 0;
    for (let i = 2; i < run.length; i++) {
      const delta = run[i] as unknown;
      if (typeof delta !== 'number' && typeof delta !== 'bigint') return 'an offset is not an integer';
      off += Number(delta);
      if (!Number.isSafeInteger(off) || off < 0) return 'an offset is out of range';
      out.push({ id, off });
    }
  }
  if (entries !== Infinity && out.length !== entries) return `the runs cover ${out.length} entries, the chunk holds ${entries}`;
  return out;
}
