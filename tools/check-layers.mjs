#!/usr/bin/env node
// The import graph points one way: a module imports only from its own folder or from a lower
// layer. Run by the test suite (test/architecture/layers.test.ts) and by hand:
//   node tools/check-layers.mjs        prints each arrow that points up, exits 1 if any
// ARCHITECTURE.md describes the layers; this table is their single source.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Lowest first. A folder of src/ is named by its first path part; commands/ and src/app are layers of their own. */
export const LAYERS = [
  ['src/base'], // exit statuses, standard streams, the progress line: imports nothing of logkit
  ['src/event', 'src/log'],
  ['src/regex', 'src/codec', 'src/net'],
  ['src/checkpoint', 'src/stream', 'src/metrics', 'src/protocol', 'src/retry'],
  ['src/buffer', 'src/parse', 'src/tag', 'src/tail', 'src/cat'],
  ['src/forward', 'src/receive', 'src/store'],
  ['src/cli'], // the option schema and its yargs wiring: what commands/ are written in
  ['src/run'], // the one-process runner: stages parsed with their commands' schemas, handed in by commands/run.ts
  ['commands'],
  ['src/app'], // the entry point and the docs generator: they load commands
];

function unitOf(file) {
  const rel = relative(ROOT, file).split(sep);
  if (rel[0] === 'commands') return 'commands';
  if (rel[0] === 'src' && rel.length > 2) return `src/${rel[1]}`;
  return undefined;
}

function rankOf(unit) {
  const rank = LAYERS.findIndex((layer) => layer.includes(unit));
  return rank < 0 ? undefined : rank;
}

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) yield path;
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/**
 * Every import that points to a higher layer, a sibling folder of the same layer, or a folder
 * the table does not know; and every cycle of modules importing each other.
 */
export function violations() {
  const found = [];
  const graph = new Map(); // file → the files it imports
  for (const top of ['src', 'commands']) {
    for (const file of sources(join(ROOT, top))) {
      const from = unitOf(file);
      const fromRank = rankOf(from);
      if (fromRank === undefined) {
        found.push(`${relative(ROOT, file)}: its folder ${from ?? '(top of src/)'} is in no layer of tools/check-layers.mjs`);
        continue;
      }
      const text = readFileSync(file, 'utf8');
      const edges = [];
      graph.set(file, edges);
      for (const m of text.matchAll(IMPORT)) {
        const target = resolve(dirname(file), m[1] ?? m[2]);
        // a dynamic import() runs after loading, so it makes no load-order cycle (commands/run.ts loads its siblings so)
        if (m[1] !== undefined) edges.push(target.replace(/\.js$/, '.ts'));
        const to = unitOf(target);
        if (to === undefined || to === from) continue;
        const toRank = rankOf(to);
        if (toRank === undefined || toRank >= fromRank) {
          found.push(`${relative(ROOT, file)} (${from}, layer ${fromRank}) imports ${m[1] ?? m[2]} (${to}, layer ${toRank ?? '?'})`);
        }
      }
    }
  }
  found.push(...cycles(graph));
  return found;
}

/** Import cycles between modules (each reported once, as the files around it). */
function cycles(graph) {
  const found = [];
  const state = new Map(); // file → 'open' while on the path, 'done' after
  const path = [];
  const visit = (file) => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') {
        const loop = path.slice(path.indexOf(next)).map((f) => relative(ROOT, f));
        found.push(`import cycle: ${[...loop, loop[0]].join(' → ')}`);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const found = violations();
  for (const line of found) console.log(line);
  if (found.length > 0) {
    console.log(`${found.length} import(s) point the wrong way`);
    process.exit(1);
  }
  console.log('the import graph points one way');
}
