// Renders the changes as reviewer-friendly Markdown.
import type { Change, Severity } from "./diff.ts";

const GROUPS: [Severity, string][] = [
  ["breaking", "Breaking"],
  ["non-breaking", "Non-breaking"],
  ["docs", "Docs"],
];

export function renderReport(changes: Change[], from: string, to: string): string {
  const lines = [`## OpenAPI changes: \`${from}\` → \`${to}\``, ""];
  if (!changes.length) return [...lines, "No differences.", ""].join("\n");
  for (const [severity, title] of GROUPS) {
    const group = changes.filter((c) => c.severity === severity);
    if (!group.length) continue;
    const items = group.map((c) => `- \`${c.location}\`: ${c.message}`);
    // Description and example changes are many and harmless: folded away.
    if (severity === "docs") {
      lines.push(
        `<details><summary>${title} (${group.length})</summary>`,
        "",
        ...items,
        "",
        "</details>",
        "",
      );
    } else lines.push(`### ${title} (${group.length})`, "", ...items, "");
  }
  return lines.join("\n");
}
