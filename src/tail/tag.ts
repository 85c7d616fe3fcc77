/**
 * The tag of a file's events: `*` in the pattern becomes the path with slashes turned into dots,
 * as Fluentd's in_tail does (`app.*` + `/var/log/a.log` → `app.var.log.a.log`). Characters
 * outside letters, digits, `_`, `-` and `.` become `_`, and empty parts are dropped, so a file
 * name cannot produce a tag that surprises a router (or a path built from the tag later on).
 */
export function expandTag(pattern: string, path: string): string {
  if (!pattern.includes('*')) return pattern;
  const dotted = path
    .split(/[\\/]+/)
    .filter((part) => part !== '' && part !== '.')
    .map((part) => part.replace(/[^A-Za-z0-9_.-]/g, '_'))
    .join('.')
    .replace(/\.{2,}/g, '.')
    .replace(/^\.+|\.+$/g, '');
  return pattern
    .replaceAll('*', dotted)
    .replace(/\.{2,}/g, '.')
    .replace(/^\.+|\.+$/g, '');
}
