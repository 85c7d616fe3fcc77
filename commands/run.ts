import { defineCommand } from '../src/cli/spec.js';
import { OPERATION_OPTIONS } from '../src/cli/common-options.js';
import { ExitCode } from '../src/base/exit-codes.js';

export default defineCommand(
  {
    name: 'run',
    summary: 'run a chain of logkit commands in one process, stages handing each other events in memory',
    description:
      'Runs CHAIN, a pipeline of logkit commands written as for the shell but without the "logkit" before ' +
      'each command, e.g. \'tail app.log --checkpoint pos | parse json | forward agg:24224 --checkpoint pos\', ' +
      'in this one process. Each stage takes the same arguments as the command (parsed with its own options), ' +
      'and does the same work; the stages hand each other batches of events in memory instead of encoding them ' +
      'into a pipe and decoding them again, and share one runtime (one heap instead of one per command). The ' +
      'first stage reads standard input and the last writes standard output, as the pipeline would.\n\n' +
      'CHAIN is one argument, split as a shell splits a simple command (\'…\' and "…" quoting, backslash escapes, ' +
      '| between stages), with nothing expanded: no $VARIABLES, globs or ~ (a glob for tail reaches it as ' +
      'written).\n\n' +
      'It behaves as the shell pipeline with `set -o pipefail` does: a stage that ends ends its output (the next ' +
      'stage sees the end of its input) and its input (the stage before stops, as at a closed pipe); SIGTERM or ' +
      'SIGINT reaches every stage at once, each stopping as its command does (a second one ends the process at ' +
      'once); the exit status is that of the last stage that failed, the others\' errors logged. Checkpoints, ' +
      'buffers, acknowledgements and --metrics endpoints are those of the commands.',
    positionals: [{ name: 'chain', type: 'string', required: true, describe: 'The stages, one argument: \'tail app.log | parse json | forward agg:24224\'' }],
    options: {
      'log-level': OPERATION_OPTIONS['log-level'],
      'log-format': OPERATION_OPTIONS['log-format'],
    },
    // any stage's status can end the chain
    exitStatuses: [ExitCode.USAGE, ExitCode.DATA_ERROR, ExitCode.NO_INPUT, ExitCode.UNAVAILABLE, ExitCode.CANT_CREATE, ExitCode.IO_ERROR, ExitCode.TEMP_FAIL, ExitCode.CONFIG],
    examples: [
      ["logkit run 'tail /var/log/app/*.log --checkpoint /var/lib/logkit/app.pos | parse json | forward agg:24224 --checkpoint /var/lib/logkit/app.pos'", 'a collector in one process, resuming after a restart'],
      ["logkit run 'receive --bind 0.0.0.0:24224 | store file /var/log/logkit/%Y%m%d.ndjson'", 'an aggregator in one process'],
      ["logkit run 'tail --no-follow --from-head app.log | parse json | cat'", 'try a chain on a file, shown as readable lines'],
    ],
    sections: [
      [
        'EXIT STATUS OF A CHAIN',
        'The status of the last stage that failed (each command\'s own statuses, see its page), 0 when none did; ' +
          '64 for a malformed chain or stage arguments, before any stage starts.',
      ],
    ],
  },
  async (args, io) => {
    const [{ runChainCommand }, { COMMAND_NAMES, loadCommand }] = await Promise.all([import('../src/run/run-chain.js'), import('./index.js')]);
    await runChainCommand({ chain: args.chain!, commandNames: COMMAND_NAMES, load: loadCommand }, io);
  },
);
