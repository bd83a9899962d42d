// A plain text table for the demo's summary: a header, aligned columns, numbers right-aligned,
// no index column and no quotes (unlike console.table).
export type Cell = string | number;

const fmt = (v: Cell) => (typeof v === "number" ? v.toLocaleString("en-US") : v);

export function formatTable(columns: readonly string[], rows: readonly Cell[][]): string {
  const text = rows.map((r) => r.map(fmt));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((r) => (r[i] ?? "").length)));
  const numeric = columns.map(
    (_, i) =>
      rows.length > 0 &&
      rows.every((r) => typeof r[i] === "number" || /^[\d.,]+( s|x)?$|^-$/.test(String(r[i]))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line([...columns]), rule, ...text.map(line)].join("\n");
}
