// Text that came from elsewhere (the server, the input file), made safe for where the CLI writes
// it: a CSV cell the CLI adds must not be a formula when the file is opened in a spreadsheet
// (CSV injection), text on a terminal must not carry control sequences or bidi overrides, and a
// JSON line must not carry them raw either.

/**
 * A cell a spreadsheet would evaluate: it starts with a tab or a carriage return, or with
 * = + - @ (after any leading whitespace, which some spreadsheets trim on import).
 */
const FORMULA = /^[\t\r]|^\s*[=+\-@]/;

/** A cell the CLI adds to a CSV file, with a leading `'` when it would start a formula. */
export function spreadsheetCell(text: string): string {
  return FORMULA.test(text) ? `'${text}` : text;
}

/** C0 controls, DEL, C1 controls, and the bidi embeddings, overrides and isolates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_ON_TERMINAL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same, minus C0: JSON.stringify escapes those itself, and indented JSON has new lines. */
const RAW_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string, digits: number) =>
  (c.codePointAt(0) as number).toString(16).padStart(digits, "0");

/** Text for a terminal: each control or bidi character shown as an escape (`\x1b`, `\u202e`). */
export function terminalText(text: string): string {
  return text.replace(UNSAFE_ON_TERMINAL, (c) =>
    c <= "\u00ff" ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`,
  );
}

/**
 * `JSON.stringify(value, null, space)`, with DEL, C1 and bidi characters escaped as `\uXXXX`:
 * the same JSON value, and nothing in the text a terminal acts on.
 */
export function safeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(RAW_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}
