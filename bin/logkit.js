#!/usr/bin/env node
// The installed entry point, plain CommonJS (bin/package.json says so) so that it exists before
// the build and starts without Node's ESM loader. It runs the build's one-file bundle of logkit
// (dist/logkit.cjs, made by tools/bundle.mjs) from V8's code cache of it, which the build writes
// beside it: V8 then deserializes the compiled script instead of parsing all of it again. A cache
// that does not fit this Node (another version, or V8 flags such as --max-semi-space-size) is
// rejected by V8 and the bundle is compiled as usual. docs/performance.md has the figures.
'use strict';
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const BUNDLE = join(__dirname, '..', 'dist', 'logkit.cjs');
const CODE_CACHE = `${BUNDLE}.cache`;

/** The bundle as a CommonJS module function, compiled with the code cache when one is given. */
function compileBundle(cachedData) {
  let source;
  try {
    source = readFileSync(BUNDLE, 'latin1'); // ASCII (tools/bundle.mjs), which latin1 reads fastest
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
    process.stderr.write(`logkit: ${BUNDLE} is missing: build logkit first (npm ci, or npm run build)\n`);
    process.exit(70);
  }
  // the same wrapper as Node's own for a CommonJS module, on one line so that line numbers hold
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: BUNDLE, cachedData });
  return script;
}

function readCodeCache() {
  try {
    return readFileSync(CODE_CACHE);
  } catch {
    return undefined; // not built yet, or removed: compile without it
  }
}

function runBundle() {
  const script = compileBundle(readCodeCache());
  const bundleModule = { exports: {}, id: BUNDLE, filename: BUNDLE, loaded: true };
  script.runInThisContext()(bundleModule.exports, createRequire(BUNDLE), bundleModule, BUNDLE, dirname(BUNDLE));
}

if (require.main === module) runBundle();
else module.exports = { BUNDLE, CODE_CACHE, compileBundle, readCodeCache };
