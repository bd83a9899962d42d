// The result shape every benchmark returns, and the stdout table.

export type Verdict = "PASS" | "MISS" | "SKIPPED" | "";

export interface Row {
  /** Benchmark section, e.g. "overhead". */
  section: string;
  figure: string;
  value: string;
  target?: string;
  verdict?: Verdict;
}

export interface BenchResult {
  name: string;
  /** Every measured figure, for results.json. */
  figures: Record<string, unknown>;
  rows: Row[];
  /** Plain-language explanations of missed targets or caveats. */
  notes?: string[];
}

export const verdict = (ok: boolean): Verdict => (ok ? "PASS" : "MISS");

export function formatTable(rows: readonly Row[]): string {
  const header = ["Benchmark", "Figure", "Value", "Target", "Result"];
  const cells = rows.map((r) => [r.section, r.figure, r.value, r.target ?? "", r.verdict ?? ""]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...cells.map((c) => (c[i] as string).length)),
  );
  const line = (c: string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  ")];
  let last = "";
  for (const c of cells) {
    const section = c[0] === last ? "" : (c[0] as string);
    last = c[0] as string;
    out.push(line([section, ...c.slice(1)]));
  }
  return out.join("\n");
}
