// The flame graph of a .cpuprofile: widths from the samples, parts from the scripts' URLs, and
// names from a profile (anything a script may call a function) written as inert XML text.
import { describe, expect, it } from "vitest";
import { type CpuProfile, escapeXml, summarize, toSvg, toTree } from "../src/flame.ts";

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url, lineNumber: 9 },
  children,
});

// root -> main (bench) -> { upsertBatch (SDK) -> JSON.stringify, fetch (undici) }; and idle.
const profile: CpuProfile = {
  nodes: [
    frame(1, "(root)", "", [2, 6]),
    frame(2, "main", "file:///w/tools/bench/src/x.ts", [3, 5]),
    frame(3, "upsertBatch", "file:///w/packages/client/dist/index.mjs", [4]),
    frame(4, "stringify", ""),
    frame(5, "fetch", "node:internal/deps/undici/undici"),
    frame(6, "(idle)", ""),
  ],
  samples: [3, 3, 4, 5, 5, 5, 2, 6, 6, 6, 6],
};

describe("flame", () => {
  it("counts self and total samples per frame, idle left out", () => {
    const tree = toTree(profile);
    expect(tree.total).toBe(7);
    const main = tree.children[0];
    expect(main?.total).toBe(7);
    expect(main?.self).toBe(1);
    const [fetch, upsert] = main?.children ?? [];
    expect([fetch?.name, fetch?.total, fetch?.part]).toEqual([
      "fetch undici/undici:10",
      3,
      "undici",
    ]);
    expect([upsert?.total, upsert?.self, upsert?.part]).toEqual([3, 2, "sdk"]);
    expect(toTree(profile, true).total).toBe(11);
  });

  it("sums self time by part and names the top frames", () => {
    const s = summarize(toTree(profile));
    expect(s.parts).toEqual({ sdk: 2, undici: 3, node: 1, gc: 0, other: 1 });
    expect(s.frames[0]).toEqual({ name: "fetch undici/undici:10", part: "undici", self: 3 });
  });

  it("draws one rectangle per visible frame, widths by samples, hostile names escaped", () => {
    const hostile: CpuProfile = {
      nodes: [frame(1, "(root)", "", [2]), frame(2, '<script>alert("x")</script>\u0007&', "", [])],
      samples: [2, 2],
    };
    const svg = toSvg(toTree(hostile), "t <&>");
    expect(svg).not.toContain("<script>");
    expect(svg).not.toContain("\u0007");
    expect(svg).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;");
    expect(svg).toContain("t &lt;&amp;&gt;");
    expect(svg.match(/rx="2"/g)?.length).toBe(2); // the root and the one frame
    const widths = [
      ...toSvg(toTree(profile), "t", 1020).matchAll(
        /<rect x="[\d.]+" y="\d+" width="([\d.]+)" height="\d+" fill="[^"]+" rx="2"/g,
      ),
    ].map((m) => Number(m[1]));
    expect(widths[0]).toBe(1000); // "all": the whole width less the margins
    expect(widths).toContain(Number(((1000 * 3) / 7).toFixed(1))); // fetch: 3 of 7 samples
  });

  it("refuses what is not a profile, with a message naming it", () => {
    expect(() => toTree({ nodes: [], samples: [] })).toThrow(/no nodes/);
    expect(() => toTree({ nodes: [frame(1, "(root)", "")], samples: [] })).toThrow(/no samples/);
    expect(escapeXml("a\u0000b<")).toBe("ab&lt;");
  });
});
