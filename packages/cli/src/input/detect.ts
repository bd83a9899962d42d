// What an input is, from its name and its first bytes: format, gzip, CSV delimiter.
import { extname } from "node:path";
import type { InputFormat } from "./types.ts";

/** The spellings `--delimiter` accepts, and the delimiter each means. */
export const DELIMITERS: Readonly<Record<string, string>> = {
  ",": ",",
  comma: ",",
  ";": ";",
  semicolon: ";",
  "\t": "\t",
  tab: "\t",
  "\\t": "\t",
  "|": "|",
  pipe: "|",
};

/** What the file name says: format and gzip. */
export function formatFromName(path: string): {
  format: InputFormat | undefined;
  gzip: boolean;
  tab: boolean;
} {
  let name = path.toLowerCase();
  const gzip = name.endsWith(".gz");
  if (gzip) name = name.slice(0, -3);
  const ext = extname(name);
  if (ext === ".csv" || ext === ".txt") return { format: "csv", gzip, tab: false };
  if (ext === ".tsv" || ext === ".tab") return { format: "csv", gzip, tab: true };
  if (ext === ".ndjson" || ext === ".jsonl") return { format: "ndjson", gzip, tab: false };
  if (ext === ".json") return { format: "json", gzip, tab: false };
  return { format: undefined, gzip, tab: false };
}

/** True when the bytes start with gzip's magic number. */
export function isGzip(first: Buffer): boolean {
  return first[0] === 0x1f && first[1] === 0x8b;
}

/** The format the start of the text suggests: `[` a JSON array, `{` NDJSON, else CSV. */
export function formatFromContent(head: string): InputFormat {
  const firstChar = head.replace(/^\uFEFF/, "").trimStart()[0];
  return firstChar === "[" ? "json" : firstChar === "{" ? "ndjson" : "csv";
}

/** The delimiter the header line uses most, outside quotes (`,` when none appears). */
export function detectDelimiter(text: string): string {
  const counts = new Map<string, number>([
    [",", 0],
    [";", 0],
    ["\t", 0],
    ["|", 0],
  ]);
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "\n" || ch === "\r")) break;
    else if (!quoted && counts.has(ch)) counts.set(ch, (counts.get(ch) as number) + 1);
  }
  let best = ",";
  let max = 0;
  for (const [d, n] of counts) {
    if (n > max) {
      best = d;
      max = n;
    }
  }
  return best;
}
