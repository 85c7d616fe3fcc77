/**
 * What a valid tag is, for every stage. Tags come from the network, from file paths and from
 * record fields, and later name files (`store`), database rows and log lines, so a tag made from
 * outside data is SANITIZED before it goes anywhere (never rejected: dropping events for a
 * cosmetic fault in their tag would lose data), and a tag written on the command line must
 * already be clean:
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

/** The rule in words, for error messages. */
export const TAG_RULE = 'dot-separated words of letters, digits and _ : @ + = ~ -, at most 255 characters';

const CLEAN = /^[A-Za-z0-9_:@+=~-]+(?:\.[A-Za-z0-9_:@+=~-]+)*$/;
const UNSAFE_CHAR = /[^A-Za-z0-9_.:@+=~-]/gu;

/** A tag that needs no sanitizing: what a tag given on the command line must be. */
export function isCleanTag(tag: string): boolean {
  return tag.length <= MAX_TAG_BYTES && CLEAN.test(tag);
}

/** Sanitizes a tag made from outside data (a client's tag, a file path, a record field). */
export function sanitizeTag(tag: string): string {
  if (isCleanTag(tag)) return tag;
  let out = tag.replace(UNSAFE_CHAR, '_').replace(/\.{2,}/g, '.').replace(/^\.+|\.+$/g, '');
  if (out.length > MAX_TAG_BYTES) out = out.slice(0, MAX_TAG_BYTES).replace(/\.+$/, '');
  return out === '' ? '_' : out;
}
