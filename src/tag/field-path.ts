import type { EventRecord } from '../event/event.js';

/**
 * How options name a record field: `level` is the top-level key; `$.kubernetes.pod` (Fluentd's
 * record_accessor syntax) walks nested maps. Compiled once into a getter.
 */
export type FieldGetter = (record: EventRecord) => unknown;

export function fieldGetter(name: string): FieldGetter {
  if (!name.startsWith('$.')) return (record) => record[name];
  const path = name.slice(2).split('.');
  return (record) => {
    let value: unknown = record;
    for (let i = 0; i < path.length; i++) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as EventRecord)[path[i]!];
    }
    return value;
  };
}

/** A field value as text for matching and templates: strings as they are, scalars printed, maps as JSON. */
export function fieldText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    case 'object':
      if (value === null) return undefined;
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length).toString('utf8');
      try {
        return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      } catch {
        return undefined;
      }
    default:
      return undefined;
  }
}
