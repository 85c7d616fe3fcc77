import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadAllCommands } from '../../../commands/index.js';
import { bashCompletion, fishCompletion, zshCompletion } from './completions.js';
import { commandManPage, overviewManPage } from './man-page.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Every generated file (path relative to the repository root → content), from the command specs. */
export async function generatedDocs(): Promise<Map<string, string>> {
  const { version } = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { version: string };
  const specs = (await loadAllCommands()).map((m) => m.spec);
  const files = new Map<string, string>();
  const pages = ['logkit', ...specs.map((s) => `logkit-${s.name}`)];
  files.set('man/logkit.1', overviewManPage(specs, version));
  for (const spec of specs) {
    files.set(`man/logkit-${spec.name}.1`, commandManPage(spec, version, pages.filter((p) => p !== `logkit-${spec.name}`)));
  }
  files.set('completions/logkit.bash', bashCompletion(specs));
  files.set('completions/_logkit', zshCompletion(specs));
  files.set('completions/logkit.fish', fishCompletion(specs));
  return files;
}

export { ROOT };

// `npm run docs`: write them.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await generatedDocs();
  await mkdir(`${ROOT}man`, { recursive: true });
  await mkdir(`${ROOT}completions`, { recursive: true });
  for (const [path, content] of files) await writeFile(`${ROOT}${path}`, content);
  process.stdout.write(`wrote ${[...files.keys()].join(', ')}\n`);
}
