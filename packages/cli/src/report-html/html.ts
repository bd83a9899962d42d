// HTML that escapes by default: `html` is a tagged template whose every interpolated value is
// escaped unless it is already Html (made by `html` itself, or `raw` for the page's own fixed
// markup). Text from the run folder (server messages, file and column names, the database) can
// therefore only ever be text on the page.
import { terminalText } from "../safe-text.ts";

/** Markup that is safe to insert as it is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What may be interpolated: text (escaped), numbers, markup, lists of them; nothing for null. */
export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Text for an HTML text node or a quoted attribute value. Control characters and bidi overrides
 * are shown as escapes (`\x1b`, `\u202e`), as on the terminal: they cannot disguise the text.
 */
export function escapeHtml(text: string): string {
  return terminalText(text).replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return "";
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(render).join("");
  return escapeHtml(String(part));
}

/** `html\`<td>${message}</td>\``: the message escaped, the markup kept. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

/** The page's own fixed markup (never text from the run folder). */
export const raw = (markup: string): Html => new Html(markup);
