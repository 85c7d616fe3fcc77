import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecutionContext } from 'ava';
import { LOGKIT_BIN } from './logkit.js';
import { waitFor } from './wait.js';

/** A running `logkit …` whose stderr is collected; killed when the test ends. */
export class StageProcess {
  readonly child: ChildProcess;
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(t: ExecutionContext, args: readonly string[], stdin: 'pipe' | 'ignore' | NodeJS.ReadableStream = 'pipe') {
    this.child = spawn(process.execPath, [LOGKIT_BIN, ...args], {
      stdio: [typeof stdin === 'string' ? stdin : 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '', FORCE_COLOR: '' },
    });
    if (typeof stdin !== 'string') stdin.pipe(this.child.stdin!);
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    t.teardown(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    });
  }

  /** The URL of its --metrics endpoint, from its start-up line. */
  async metricsUrl(timeoutMs = 20_000): Promise<string> {
    await waitFor(() => /metrics on (http:\S+)/.test(this.stderr), `the metrics line of ${this.child.spawnargs.slice(2, 3).join(' ')}`, timeoutMs);
    return /metrics on (http:\S+)/.exec(this.stderr)![1]!;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}

/** Scrapes a Prometheus endpoint: `name{labels}` → value (labels without `command`). */
export async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  const values = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels = match[2]!
      .split(',')
      .filter((pair) => !pair.startsWith('command='))
      .join(',');
    values.set(labels ? `${match[1]}{${labels}}` : match[1]!, Number(match[3]));
  }
  return values;
}
