import { createHash } from 'node:crypto';

/** Something the balancer can choose: a weight, and whether it may take chunks now. */
export interface Weighted {
  readonly weight: number;
}

/** A server as rendezvous hashing sees it: a weight and a stable name (`host:port`). */
export interface Named extends Weighted {
  readonly label: string;
}

/**
 * Smooth weighted round-robin (the nginx algorithm): over any run of picks each candidate gets
 * its share of the total weight, and picks of a heavy candidate are spread out rather than
 * bunched (weights 1:3 give B A B B, B A B B, ...). Candidates can change between picks (servers
 * go down and up); a returning server starts from zero, so it gets its share without a burst.
 */
export class WeightedRoundRobin<T extends Weighted> {
  private readonly current = new Map<T, number>();

  /** Picks one of `candidates` (undefined when there are none); `avoid` is skipped if others exist. */
  pick(candidates: readonly T[], avoid?: T): T | undefined {
    const usable = avoid && candidates.length > 1 ? candidates.filter((c) => c !== avoid) : candidates;
    if (usable.length === 0) return undefined;
    let total = 0;
    let best: T | undefined;
    let bestWeight = -Infinity;
    for (const candidate of usable) {
      const weight = (this.current.get(candidate) ?? 0) + candidate.weight;
      this.current.set(candidate, weight);
      total += candidate.weight;
      if (weight > bestWeight) {
        bestWeight = weight;
        best = candidate;
      }
    }
    this.current.set(best!, bestWeight - total);
    return best;
  }

  /** Forget a candidate's running weight (it went down; it comes back without a debt or credit). */
  reset(candidate: T): void {
    this.current.delete(candidate);
  }
}

/** Orders remembered; past this many sources the memo starts over (an order is cheap to compute again). */
const REMEMBERED_SOURCES = 4096;

/**
 * Weighted rendezvous hashing (highest random weight): each source ranks the servers by a score
 * drawn from a hash of (source, server name), scaled by the server's weight, and goes to the first
 * one that is up. Over many sources each server gets its share of the weight; a server going down
 * moves only its own sources (each to the next server in its own order), and they come back when
 * it does. The order depends only on the source id and the server names, so it is the same after
 * a restart of forward and on every collector that lists the same servers.
 */
export class RendezvousRouter<T extends Named> {
  private readonly orders = new Map<string, readonly T[]>();
  private readonly keys = new Map<string, string>();

  constructor(private readonly servers: readonly T[]) {}

  /**
   * A name for `source`'s whole order: sources with the same key go to the same server whichever
   * servers are down, so their events can share a chunk.
   */
  routeKey(source: string): string {
    let key = this.keys.get(source);
    if (key === undefined) {
      if (this.keys.size >= REMEMBERED_SOURCES) this.keys.clear();
      key = this.order(source)
        .map((server) => server.label)
        .join(' ');
      this.keys.set(source, key);
    }
    return key;
  }

  /** The servers in the order `source` prefers them. */
  order(source: string): readonly T[] {
    let order = this.orders.get(source);
    if (order === undefined) {
      if (this.orders.size >= REMEMBERED_SOURCES) this.orders.clear();
      order = this.servers
        .map((server) => ({ server, score: rendezvousScore(source, server) }))
        .sort((a, b) => b.score - a.score)
        .map((scored) => scored.server);
      this.orders.set(source, order);
    }
    return order;
  }

  /** The first server of `source`'s order that `usable` accepts. */
  pick(source: string, usable: (server: T) => boolean): T | undefined {
    return this.order(source).find(usable);
  }
}

/**
 * weight / −ln(u), u uniform in (0, 1) from the hash: the logarithmic method of weighted
 * rendezvous hashing, under which a server wins a source with probability weight / total.
 */
export function rendezvousScore(source: string, server: Named): number {
  const digest = createHash('sha256').update(source).update('\0').update(server.label).digest();
  const u = (digest.readUIntBE(0, 6) + 0.5) / 2 ** 48;
  return server.weight / -Math.log(u);
}
