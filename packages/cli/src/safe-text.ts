// Text that came from elsewhere (the server, the input file), made safe for where the CLI writes
// it: a CSV cell the CLI adds must not be a formula when the file is opened in a spreadsheet
// (CSV injection), text on a terminal must not carry control sequences or bidi overrides, and a
// JSON line must not carry them raw either.

/**
 * A cell a spreadsheet would evaluate: it starts with a tab or a carriage return, or with
 * = + - @ (after any leading whitespace, which some spreadsheets trim on import).
 */
const FORMULA = /^[\t\r]|^\s*[=+\-@]/;

/**
 * A formula trigger after a `;`, a `,`, a tab or a line break inside a cell: a spreadsheet that
 * splits on another separator than the file's (a `;` locale opening a comma-separated file, a
 * comma locale opening one written with the input's `;`) starts a cell of its own there, and
 * the cell's quote then no longer holds its line breaks together (quotes and whitespace before
 * the trigger do not stop it).
 */
const FORMULA_AFTER_SEPARATOR = /([;,\t\r\n][\s"']*)(?=[=+\-@])/g;

/**
 * A cell the CLI adds to a CSV file: a leading `'` when it would start a formula or starts with
 * a `'` itself (so a leading `'` is always one added, and a spreadsheet, which hides it, shows
 * the text as it was), and a `'` before a trigger after a `;`, a `,`, a tab or a line break
 * inside it (also one that starts it: a tab-split view starts a cell after it). {@link cellText}
 * undoes it.
 */
export function spreadsheetCell(text: string): string {
  const cell = text.replace(FORMULA_AFTER_SEPARATOR, "$1'");
  return FORMULA.test(text) || text.startsWith("'") ? `'${cell}` : cell;
}

/** The `'` spreadsheetCell put before a trigger after a separator. */
const ADDED_AFTER_SEPARATOR = /([;,\t\r\n][\s"']*)'(?=[=+\-@])/g;

/** The text {@link spreadsheetCell} was given, from the cell it made. */
export function cellText(cell: string): string {
  return (cell.startsWith("'") ? cell.slice(1) : cell).replace(ADDED_AFTER_SEPARATOR, "$1");
}

/**
 * C0 controls, DEL, C1 controls, the bidi embeddings, overrides and isolates, and the invisible
 * marks that hide or reorder text: the zero-width space, the left-to-right, right-to-left and
 * Arabic letter marks, the line and paragraph separators, the word joiner and invisible
 * operators, the byte order mark. The zero-width joiner and non-joiner stay: scripts (Persian,
 * Indic) and emoji sequences are written with them.
 */
const UNSAFE_ON_TERMINAL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
/** The same, minus C0: JSON.stringify escapes those itself, and indented JSON has new lines. */
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
/**
 * The same, minus tab, new line and a carriage return before one (CRLF): what server text in a
 * CSV cell must not carry raw. A bare carriage return would let `cat` overwrite the line.
 */
const RAW_IN_FILE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /\r(?!\n)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const hex = (c: string, digits: number) =>
  (c.codePointAt(0) as number).toString(16).padStart(digits, "0");

/** Text for a terminal: each control or bidi character shown as an escape (`\x1b`, `\u202e`). */
export function terminalText(text: string): string {
  return text.replace(UNSAFE_ON_TERMINAL, (c) =>
    c <= "\u00ff" ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`,
  );
}

/**
 * Server text for a CSV cell (a message, an activity id): each control, bidi or invisible
 * character but tab, new line and CRLF shown as an escape, as on the terminal, so `cat failed.csv`
 * acts on nothing; then {@link spreadsheetCell}.
 */
export function serverTextCell(text: string): string {
  return spreadsheetCell(
    text.replace(RAW_IN_FILE, (c) => (c <= "\u00ff" ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`)),
  );
}

/**
 * `JSON.stringify(value, null, space)`, with DEL, C1 and bidi characters escaped as `\uXXXX`:
 * the same JSON value, and nothing in the text a terminal acts on.
 */
export function safeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(RAW_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}
