// The human changelog of @vbapi-sdk/openapi, written from the same classified differences the
// breaking-change gate uses, as the body of a changeset: `changeset version` then puts it into
// packages/openapi/CHANGELOG.md, so nobody writes the list of spec changes twice.
import type { Change } from "./diff.ts";

export type Action = "added" | "changed" | "removed";
export type Kind = "operation" | "parameter" | "field" | "constraint" | "response" | "other";
export interface Entry {
  change: Change;
  action: Action;
  kind: Kind;
  text: string;
}

/** The file `pnpm diff:spec --changeset` writes and `--changeset-check` compares. */
export const CHANGESET_FILE = "openapi-spec-changes.md";
export const MARKER =
  "<!-- Written by `pnpm diff:spec --changeset` from the spec diff: do not edit, run it again. -->";

const KIND_OF_RULE: Record<string, Kind> = {
  "operation-added": "operation",
  "operation-removed": "operation",
  "path-renamed": "operation",
  "path-param-renamed": "operation",
  "request-body": "operation",
  security: "operation",
  "security-scheme": "operation",
  servers: "operation",
  "parameter-added": "parameter",
  "parameter-removed": "parameter",
  "parameter-required": "parameter",
  "parameter-style": "parameter",
  "field-added": "field",
  "field-removed": "field",
  required: "field",
  readOnly: "field",
  writeOnly: "field",
  deprecated: "field",
  "schema-added": "field",
  "schema-removed": "field",
  type: "constraint",
  format: "constraint",
  limit: "constraint",
  enum: "constraint",
  pattern: "constraint",
  multipleOf: "constraint",
  uniqueItems: "constraint",
  additionalProperties: "constraint",
  items: "constraint",
  allOf: "constraint",
  anyOf: "constraint",
  oneOf: "constraint",
  default: "constraint",
  "media-type-added": "response",
  "media-type-removed": "response",
  "response-removed": "response",
  "response-added": "response",
  "response-header": "response",
};
const KIND_TITLE: [Kind, string][] = [
  ["operation", "Operations"],
  ["parameter", "Parameters"],
  ["field", "Fields"],
  ["constraint", "Constraints"],
  ["response", "Responses and media types"],
  ["other", "Other"],
];
const ACTIONS: [Action, string][] = [
  ["added", "Added"],
  ["changed", "Changed"],
  ["removed", "Removed"],
];

/** A value changed under an unclassified key: "x-foo changed from <JSON> to <JSON>". */
const OTHER = /^(\S+) changed from (.*) to (.*?)( \(not classified.*\))?$/s;

function actionOf(c: Change): Action {
  if (/-added$/.test(c.rule)) return "added";
  if (/-removed$/.test(c.rule)) return "removed";
  const m = OTHER.exec(c.message);
  if (c.rule === "other" && m)
    return m[2] === "none" ? "added" : m[3] === "none" ? "removed" : "changed";
  if (/^(new |required parameter added|optional parameter added)|\badded\b/.test(c.message))
    return "added";
  if (/\b(removed|dropped|gone)\b/.test(c.message)) return "removed";
  return "changed";
}

/** A line for the reader: values of unclassified keys (code samples…) are not dumped in full. */
function textOf(c: Change, action: Action): string {
  const m = c.rule === "other" ? OTHER.exec(c.message) : null;
  const message = m ? `${m[1]} ${action}${m[4] ?? ""}` : c.message;
  return `\`${c.location}\`: ${message}`;
}

/** x- extensions that only document (code samples for the HTML reference). */
const DOC_EXTENSIONS = /^x-(codeSamples|code-samples|logo|tagGroups)\b/;

export function classify(changes: Change[]): Entry[] {
  return changes.map((change) => {
    const docs =
      change.severity === "docs" ||
      (change.rule === "other" && DOC_EXTENSIONS.test(change.message));
    const c: Change = docs ? { ...change, severity: "docs" } : change;
    const action = actionOf(c);
    return { change: c, action, kind: KIND_OF_RULE[c.rule] ?? "other", text: textOf(c, action) };
  });
}

export type Bump = "major" | "minor" | "patch";
/** major for a breaking change, minor for any other change of meaning, patch for docs only. */
export function bumpFor(entries: Entry[]): Bump | null {
  if (!entries.length) return null;
  if (entries.some((e) => e.change.severity === "breaking")) return "major";
  if (entries.some((e) => e.change.severity === "non-breaking")) return "minor";
  return "patch";
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function section(entries: Entry[]): string[] {
  const lines: string[] = [];
  for (const [action, title] of ACTIONS) {
    const group = entries.filter((e) => e.action === action);
    if (!group.length) continue;
    lines.push(`- ${title}:`);
    for (const [kind, kindTitle] of KIND_TITLE) {
      const items = group.filter((e) => e.kind === kind);
      if (!items.length) continue;
      lines.push(`  - ${kindTitle}:`, ...items.map((e) => `    - ${e.text}`));
    }
  }
  return lines;
}

/**
 * The changeset for `pkg`, or null when the specs do not differ. Breaking changes come first,
 * then the other changes of meaning, each as added / changed / removed operations, parameters,
 * fields, constraints and responses; documentation changes are counted, not listed.
 */
export function renderChangeset(changes: Change[], pkg: string): string | null {
  const entries = classify(changes);
  const bump = bumpFor(entries);
  if (!bump) return null;
  const breaking = entries.filter((e) => e.change.severity === "breaking");
  const other = entries.filter((e) => e.change.severity === "non-breaking");
  const docs = entries.filter((e) => e.change.severity === "docs");
  const counts = [
    breaking.length && plural(breaking.length, "breaking change"),
    other.length && plural(other.length, "non-breaking change"),
    docs.length && plural(docs.length, "documentation change"),
  ].filter(Boolean);
  const lines = [
    "---",
    `"${pkg}": ${bump}`,
    "---",
    "",
    `OpenAPI description: ${counts.join(", ")}.`,
    "",
    MARKER,
    "",
  ];
  if (breaking.length)
    lines.push(
      "**Breaking changes** (a client generated from the previous version may no longer compile or work):",
      "",
      ...section(breaking),
      "",
    );
  if (other.length) lines.push("**Other changes:**", "", ...section(other), "");
  if (docs.length) {
    const where = [...new Set(docs.map((e) => e.change.location))];
    lines.push(
      `**Documentation:** descriptions, examples or code samples changed in ${plural(where.length, "place")}.`,
      "",
    );
  }
  return lines.join("\n");
}
