/** The choices of `logkit tail`, apart from the tailer so that its --help loads none of it. */
export const LINE_FORMATS = ['text', 'docker', 'cri'] as const;
export type LineFormat = (typeof LINE_FORMATS)[number];
export const MULTILINE_MODES = ['java', 'python'] as const;
export type MultilineMode = (typeof MULTILINE_MODES)[number];
