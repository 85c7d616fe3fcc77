/** Something the balancer can choose: a weight, and whether it may take chunks now. */
export interface Weighted {
  readonly weight: number;
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
