import type { EventRecord } from '../event/event.js';

export const FIELD_TYPES = ['string', 'integer', 'float', 'bool'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldConversion {
  field: string;
  type: FieldType;
}

/**
 * `status:integer,size:integer,ok:bool` → conversions. Throws an Error with a readable message.
 * Converting a value that is not of the type (size "-", ok "maybe") gives null for `-` and
 * empty text, and otherwise leaves the text as it was: a conversion never loses what was logged.
 */
export function parseFieldTypes(spec: string): FieldConversion[] {
  const conversions: FieldConversion[] = [];
  for (const part of spec.split(',')) {
    if (part.trim() === '') continue;
    const colon = part.lastIndexOf(':');
    const field = part.slice(0, colon).trim();
    const type = part.slice(colon + 1).trim();
    if (colon <= 0 || field === '') throw new Error(`"${part}" is not FIELD:TYPE`);
    if (!(FIELD_TYPES as readonly string[]).includes(type)) throw new Error(`"${type}" is not a type (use ${FIELD_TYPES.join(', ')})`);
    conversions.push({ field, type: type as FieldType });
  }
  return conversions;
}

export function applyFieldTypes(record: EventRecord, conversions: readonly FieldConversion[]): void {
  for (let i = 0; i < conversions.length; i++) {
    const { field, type } = conversions[i]!;
    const value = record[field];
    if (value === undefined) continue;
    record[field] = convert(value, type);
  }
}

function convert(value: unknown, type: FieldType): unknown {
  if (type === 'string') return typeof value === 'string' || value === null ? value : String(value);
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text === '' || text === '-') return null;
  switch (type) {
    case 'integer': {
      const n = Number(text);
      if (Number.isSafeInteger(n)) return n;
      if (/^-?\d+$/.test(text)) return BigInt(text);
      return value;
    }
    case 'float': {
      const n = Number(text);
      return Number.isFinite(n) ? n : value;
    }
    case 'bool':
      if (/^(true|yes|on|1)$/i.test(text)) return true;
      if (/^(false|no|off|0)$/i.test(text)) return false;
      return value;
  }
}
