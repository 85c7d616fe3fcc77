#!/usr/bin/env node
// The build's second step (`npm run build`, after tsc): bundles the entry point dist/src/app/main.js
// and every module it can load into one CommonJS file, dist/logkit.cjs, which bin/logkit.js runs,
// and writes V8's code cache of it beside it (dist/logkit.cjs.cache).
//
// Why: a stage loaded as ~45 ES modules spends ~20 ms of CPU in Node's ESM loader (resolving,
// reading and linking each file), a fifth of `logkit cat`'s start-up; one CommonJS file skips
// that loader altogether. Modules reached through import() stay lazy in the bundle: they are
// evaluated when first imported, as before, so `cat` still runs no forward or store code.
//
// Left out of the bundle, loaded from node_modules when needed: the database drivers (large,
// CommonJS, with optional native parts) and the packages src/ loads through createRequire on
// demand (yargs, chalk, lossless-json), which a bundler does not follow anyway.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { BUNDLE, CODE_CACHE, compileBundle } = require('../bin/logkit.js');

const result = await build({
  entryPoints: [join(ROOT, 'dist', 'src', 'app', 'main.js')],
  outfile: BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['pg', 'pg-copy-streams', 'mysql2', 'yargs', 'chalk', 'lossless-json'],
  // createRequire(import.meta.url) and other uses of the module's URL: the bundle's own
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__bundleUrl' },
  logLevel: 'warning',
  metafile: true,
  write: false,
});

// bin/logkit.js runs the bundle as a plain function: an import() left in it would fail there
const dynamicImports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.kind === 'dynamic-import'));
if (dynamicImports.length > 0) throw new Error(`the bundle keeps import() of ${dynamicImports.map((i) => i.path).join(', ')}`);

// esbuild writes code as ASCII (charset ascii), but keeps comments in class bodies as they are:
// one non-ASCII character there would make V8 hold the whole 1 MB source as a two-byte string,
// slower to read and hash at every start. In a comment, its escape reads as well.
const code = result.outputFiles[0].text.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
mkdirSync(dirname(BUNDLE), { recursive: true });
writeFileSync(BUNDLE, code);
writeFileSync(CODE_CACHE, compileBundle(undefined).createCachedData());
