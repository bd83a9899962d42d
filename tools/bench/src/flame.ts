// Turns a V8 `.cpuprofile` (node --cpu-prof) into a flame-graph SVG, and prints the share of
// each part (the SDK, undici, the rest of Node, GC) and the top self-time frames.
//   tsx src/flame.ts <in.cpuprofile> <out.svg> [--title=...] [--keep-idle]
// The profile is a call tree (nodes with children and a self hit count) plus the sampled node
// of every tick; a frame's width is its samples including its callees', the root at the bottom.
// "(idle)" (the thread waiting on I/O) is left out unless --keep-idle: the graph is CPU only.
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

export interface Frame {
  name: string;
  part: Part;
  self: number;
  total: number;
  children: Frame[];
}

export const PARTS = ["sdk", "undici", "node", "gc", "other"] as const;
export type Part = (typeof PARTS)[number];
const COLORS: Record<Part, string> = {
  sdk: "#e8743b",
  undici: "#4a90d9",
  node: "#8fbf5a",
  gc: "#b0b0b0",
  other: "#d9c84a",
};

/** Which part of the process a frame belongs to, by its script's URL. */
export function partOf(frame: CallFrame): Part {
  const { url, functionName } = frame;
  if (url.includes("/packages/client/")) return "sdk";
  if (url.includes("undici")) return "undici";
  if (functionName === "(garbage collector)") return "gc";
  // Node's own scripts, and V8's natives (no URL: writev, runMicrotasks, JSON.stringify...).
  if (url.startsWith("node:") || (url === "" && !/^\(.*\)$/.test(functionName))) return "node";
  return "other";
}

/** A frame's label: function, then file (its last two path segments) and line. */
function label(frame: CallFrame): string {
  const fn = frame.functionName || "(anonymous)";
  if (!frame.url) return fn;
  const file = frame.url.split("/").slice(-2).join("/");
  return `${fn} ${file}:${frame.lineNumber + 1}`;
}

/** The call tree with sample counts (self from the samples; total = self + the callees'). */
export function toTree(profile: CpuProfile, keepIdle = false): Frame {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const root = profile.nodes[0];
  if (!root) throw new Error("flame: the profile has no nodes");
  const build = (node: ProfileNode, depth: number): Frame | undefined => {
    if (!keepIdle && node.callFrame.functionName === "(idle)") return undefined;
    if (depth > 2_000) throw new Error("flame: the call tree is deeper than 2,000 frames");
    const frame: Frame = {
      name: label(node.callFrame),
      part: partOf(node.callFrame),
      self: hits.get(node.id) ?? 0,
      total: 0,
      children: [],
    };
    for (const id of node.children ?? []) {
      const child = byId.get(id);
      const built = child && build(child, depth + 1);
      if (built && built.total > 0) frame.children.push(built);
    }
    frame.children.sort((a, b) => a.name.localeCompare(b.name));
    frame.total = frame.self + frame.children.reduce((sum, c) => sum + c.total, 0);
    return frame;
  };
  const tree = build(root, 0);
  if (!tree || tree.total === 0) throw new Error("flame: the profile has no samples");
  tree.name = "all";
  return tree;
}

/** Self samples per part, and the frames with the most self samples (merged by label). */
export function summarize(tree: Frame, top = 15) {
  const parts = Object.fromEntries(PARTS.map((p) => [p, 0])) as Record<Part, number>;
  const selfByName = new Map<string, { part: Part; self: number }>();
  const walk = (f: Frame) => {
    parts[f.part] += f.self;
    const seen = selfByName.get(f.name) ?? { part: f.part, self: 0 };
    seen.self += f.self;
    selfByName.set(f.name, seen);
    for (const c of f.children) walk(c);
  };
  walk(tree);
  const frames = [...selfByName.entries()]
    .map(([name, v]) => ({ name, ...v }))
    .sort((a, b) => b.self - a.self)
    .slice(0, top);
  return { total: tree.total, parts, frames };
}

/** Control characters (not allowed in XML 1.0), dropped from names. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;
const ENTITIES: Record<string, string> = {
  "<": "&lt;",
  ">": "&gt;",
  "&": "&amp;",
  '"': "&quot;",
  "'": "&apos;",
};
/** Text from a profile (function names, file paths) as XML text: it may hold anything. */
export const escapeXml = (s: string) =>
  s.replace(CONTROL, "").replace(/[<>&"']/g, (c) => ENTITIES[c] ?? "");

/** The flame graph: root at the bottom, width by samples, colour by part, a title per frame. */
export function toSvg(tree: Frame, title: string, width = 1200): string {
  const rowHeight = 16;
  const minWidth = 0.8;
  const rects: string[] = [];
  let depthMax = 0;
  const place = (f: Frame, x: number, depth: number) => {
    const w = (f.total / tree.total) * (width - 20);
    if (w < minWidth) return;
    depthMax = Math.max(depthMax, depth);
    rects.push(
      JSON.stringify([x, depth, w, f.name, f.part, f.total]), // placed below, once the height is known
    );
    let cx = x;
    for (const c of f.children) {
      place(c, cx, depth + 1);
      cx += (c.total / tree.total) * (width - 20);
    }
  };
  place(tree, 10, 0);
  const top = 60;
  const height = top + (depthMax + 1) * rowHeight + 10;
  const body = rects.map((json) => {
    const [x, depth, w, name, part, total] = JSON.parse(json) as [
      number,
      number,
      number,
      string,
      Part,
      number,
    ];
    const y = height - 10 - (depth + 1) * rowHeight;
    const pct = ((total / tree.total) * 100).toFixed(1);
    const chars = Math.floor((w - 4) / 6.5);
    const text =
      chars < 3 ? "" : name.length <= chars ? name : `${name.slice(0, Math.max(1, chars - 2))}..`;
    return (
      `<g><title>${escapeXml(`${name} (${part}): ${total} samples, ${pct}%`)}</title>` +
      `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowHeight - 1}" fill="${COLORS[part]}" rx="2"/>` +
      (text ? `<text x="${(x + 3).toFixed(1)}" y="${y + 11}">${escapeXml(text)}</text>` : "") +
      "</g>"
    );
  });
  const s = summarize(tree);
  const legend = PARTS.map((p, i) => {
    const pct = ((s.parts[p] / s.total) * 100).toFixed(1);
    return `<rect x="${10 + i * 150}" y="32" width="12" height="12" fill="${COLORS[p]}"/><text x="${26 + i * 150}" y="42">${p} ${pct}% self</text>`;
  }).join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">` +
    // The picture's name first (screen readers; Biome's a11y rule).
    `<title>${escapeXml(title)}</title>` +
    `<rect width="100%" height="100%" fill="#ffffff"/>` +
    `<text x="10" y="20" font-size="14">${escapeXml(title)} (${s.total} samples)</text>${legend}` +
    `${body.join("\n")}</svg>\n`
  );
}

function main() {
  const [input, output] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  if (!input || !output) {
    console.error("usage: tsx src/flame.ts <in.cpuprofile> <out.svg> [--title=...] [--keep-idle]");
    process.exit(2);
  }
  const titleArg = process.argv.find((a) => a.startsWith("--title="));
  const profile = JSON.parse(readFileSync(input, "utf8")) as CpuProfile;
  if (!Array.isArray(profile?.nodes) || !Array.isArray(profile?.samples)) {
    throw new Error(`flame: ${input} is not a .cpuprofile (no nodes and samples)`);
  }
  const tree = toTree(profile, process.argv.includes("--keep-idle"));
  writeFileSync(output, toSvg(tree, titleArg?.slice(8) ?? input));
  const s = summarize(tree);
  const pct = (n: number) => `${((n / s.total) * 100).toFixed(1)}%`;
  console.log(`${s.total} samples: ${PARTS.map((p) => `${p} ${pct(s.parts[p])}`).join(", ")}`);
  for (const f of s.frames)
    console.log(`${pct(f.self).padStart(6)}  ${f.part.padEnd(6)} ${f.name}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
