import { execa } from 'execa';
import { join } from 'node:path';
import { ROOT } from '../helpers/logkit.js';

/** Lines from the project's own deterministic generator (bench/gen-logs.mjs). */
export async function generatedLines(kind: 'json' | 'apache' | 'syslog' | 'logfmt' | 'multiline', count: number): Promise<string[]> {
  const { stdout } = await execa(process.execPath, [join(ROOT, 'bench', 'gen-logs.mjs'), kind, String(count)]);
  return stdout.split('\n');
}

export interface OutEvent {
  time: string;
  tag: string;
  record: Record<string, unknown>;
  options?: Record<string, unknown>;
}

/** NDJSON output of a stage → events. */
export function ndjson(stdout: unknown): OutEvent[] {
  return String(stdout)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as OutEvent);
}
