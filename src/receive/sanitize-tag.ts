/**
 * Tags come from the network and later name files (`store`), database rows and log lines, so
 * receive SANITIZES every tag before it goes anywhere (it does not reject: dropping a client's
 * events for a cosmetic fault in its tag would lose data):
 *
 * - every character outside [A-Za-z0-9_.:@+=~-] (so '/', '\', NUL, control characters, newlines,
 *   spaces, quotes, non-ASCII) becomes '_';
 * - runs of dots collapse to one ('..' can never appear), leading and trailing dots are removed;
 * - the result is cut to 255 bytes (it is ASCII, so bytes = characters);
 * - an empty result becomes '_'.
 *
 * A tag that needed none of this is returned as is (the common case costs one regex test).
 */
export const MAX_TAG_BYTES = 255;

const CLEAN = /^[A-Za-z0-9_:@+=~-]+(?:\.[A-Za-z0-9_:@+=~-]+)*$/;
const UNSAFE_CHAR = /[^A-Za-z0-9_.:@+=~-]/gu;

export function isCleanTag(tag: string): boolean {
  return tag.length <= MAX_TAG_BYTES && CLEAN.test(tag);
}

export function sanitizeTag(tag: string): string {
  if (isCleanTag(tag)) return tag;
  let out = tag.replace(UNSAFE_CHAR, '_').replace(/\.{2,}/g, '.').replace(/^\.+|\.+$/g, '');
  if (out.length > MAX_TAG_BYTES) out = out.slice(0, MAX_TAG_BYTES).replace(/\.+$/, '');
  return out === '' ? '_' : out;
}
