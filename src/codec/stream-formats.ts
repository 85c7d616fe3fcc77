/** The encodings of a logkit stream, apart from the codec so that option schemas load no codec code. */
export const INPUT_FORMATS = ['auto', 'msgpack', 'json', 'text'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];
export const OUTPUT_FORMATS = ['msgpack', 'json', 'pretty'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
