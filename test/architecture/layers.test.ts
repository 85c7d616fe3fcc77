import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { ROOT } from '../helpers/logkit.js';

// The layers of ARCHITECTURE.md, kept by tools/check-layers.mjs: every import points down (or
// stays in its folder), and no modules import each other in a cycle.
test('the import graph points one way, without cycles', async (t) => {
  const { violations } = (await import(pathToFileURL(join(ROOT, 'tools', 'check-layers.mjs')).href)) as { violations: () => string[] };
  t.deepEqual(violations(), []);
});
