#!/usr/bin/env node
// The installed entry point: a plain JS shim so the bin exists before and after the build.
import '../dist/src/app/main.js';
