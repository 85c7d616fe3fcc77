// Issue 11's targets and the Fluent Bit 5.1.1 figures measured on this machine kind (idle, 2 cores,
// 1,000,000 JSON lines), in one place so every workload prints itself against them. TARGETS are
// for the one-process form (`logkit run`); PIPED_TARGETS are the looser bars of the piped form.

export const TARGETS = {
  w1WallS: 4.0,
  w1CpuS: 5.4,
  /** W1 durable / W1 default, in wall and in CPU. */
  durableRatio: 1.25,
  w3WallS: 4.5,
  w3CpuS: 4.5,
  collectorRssMB: 60,
  aggregatorRssMB: 100,
  idleCollectorRssMB: 40,
  w4P99Ms: 20,
  w4TrickleCpuS: 1.0,
  startupCpuMs: 100,
};

export const PIPED_TARGETS = {
  w1CpuS: 9,
  processRssMB: 100,
  w4TrickleCpuS: 2,
  w4P99Ms: 20,
};

export const FLUENT_BIT = {
  w1WallS: 5.3, // Flush 1 (4.2 s at Flush 0.2)
  w1CpuS: 5.4,
  w1RssMB: 132,
  w1DurableWallS: 6.8,
  w1DurableCpuS: 7.4,
  w3WallS: 5.0,
  w3CpuS: 4.5,
  w4P99Ms: 1991, // 399 at Flush 0.2
  w4TrickleCpuS: 0.9,
  idleRssMB: 19,
};

/**
 * One line: a figure against its target (and the piped form's bar, when it has one), saying met or
 * missed by how much, with Fluent Bit's figure beside it. Lower is better for every figure here.
 */
export function targetLine(name, value, target, unit, fluentBit, pipedTarget) {
  const verdict = (bar) => {
    if (value === undefined || Number.isNaN(value)) return 'not measured';
    return value <= bar ? `met (${fmtNum(value)} ≤ ${fmtNum(bar)} ${unit})` : `missed by ${fmtNum(value - bar)} ${unit} (${fmtNum(((value - bar) / bar) * 100, 0)} %)`;
  };
  let line = `target ${name}: ${verdict(target)}`;
  if (pipedTarget !== undefined) line += `; piped form's bar ${fmtNum(pipedTarget)} ${unit}: ${verdict(pipedTarget)}`;
  if (fluentBit !== undefined) line += `; Fluent Bit ${fmtNum(fluentBit)} ${unit}${value !== undefined ? ` (logkit ${fmtNum(value / fluentBit)}×)` : ''}`;
  return line;
}

function fmtNum(n, digits = 2) {
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(digits);
}
