import { sanitizeTag } from '../event/tag.js';

/**
 * The tag of a file's events: `*` in the pattern becomes the path with slashes turned into dots,
 * as Fluentd's in_tail does (`app.*` + `/var/log/a.log` → `app.var.log.a.log`). The result is
 * sanitized like every tag made from outside data (src/event/tag.ts), so a file name cannot
 * produce a tag that surprises a router (or a path built from the tag later on).
 */
export function expandTag(pattern: string, path: string): string {
  if (!pattern.includes('*')) return pattern;
  const dotted = path
    .split(/[\\/]+/)
    .filter((part) => part !== '' && part !== '.')
    .join('.');
  return sanitizeTag(pattern.replaceAll('*', dotted));
}
