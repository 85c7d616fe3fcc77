import type { CommandSpec } from './spec.js';

/**
 * An option removed by a rename is a usage error that names the new one (pre-1.0, the old names
 * are not kept working; CHANGELOG.md lists them). Returns the message, or undefined when the
 * arguments use no removed name.
 */
export function renamedOptionError(spec: CommandSpec, args: readonly string[]): string | undefined {
  const renamed = spec.renamed ?? {};
  for (const arg of args) {
    if (arg === '--') break;
    const match = /^--(?:no-)?([^=]+)/.exec(arg);
    const now = match ? renamed[match[1]!] : undefined;
    if (now !== undefined) return `--${match![1]} was renamed --${now} (see CHANGELOG.md); try \`logkit ${spec.name} --help\``;
  }
  return undefined;
}
