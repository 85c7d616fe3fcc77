/**
 * Which symbolic links tail follows: every one (`follow`, as Fluent Bit and Fluentd do), only
 * those whose target stays inside the directories the paths and globs name (`inside`), or none
 * (`never`). Dependency-free, so that the command's option schema can import it cheaply.
 */
export const SYMLINK_POLICIES = ['follow', 'inside', 'never'] as const;
export type SymlinkPolicy = (typeof SYMLINK_POLICIES)[number];
