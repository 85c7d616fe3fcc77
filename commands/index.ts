import type { CommandModule, CommandSpec } from '../src/cli/spec.js';

/**
 * Every logkit command, loaded on demand: running `logkit cat` imports the cat module only,
 * which keeps start-up fast. Add a command here and in its own module.
 */
export const COMMANDS: Readonly<Record<string, () => Promise<{ default: CommandModule<CommandSpec> }>>> = {
  buffer: () => import('./buffer.js') as never,
  cat: () => import('./cat.js') as never,
  forward: () => import('./forward.js') as never,
  parse: () => import('./parse.js') as never,
  receive: () => import('./receive.js') as never,
  run: () => import('./run.js') as never,
  tag: () => import('./tag.js') as never,
  tail: () => import('./tail.js') as never,
  store: () => import('./store.js') as never,
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

export async function loadCommand(name: string): Promise<CommandModule<CommandSpec>> {
  const load = COMMANDS[name];
  if (!load) throw new Error(`unknown command ${name}`);
  return (await load()).default;
}

export async function loadAllCommands(): Promise<CommandModule<CommandSpec>[]> {
  return Promise.all(COMMAND_NAMES.map(loadCommand));
}
