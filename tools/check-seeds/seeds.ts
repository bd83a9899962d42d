// Parses VBA's endpoint descriptions (the seed files) into a small structure.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface SeedField {
  /** dotted path, e.g. `data.id.key` */
  path: string;
  /** JSON Schema types, sorted; `any` stands for "no type constraint" */
  types: string[];
  required: boolean;
  /** VBA's words about the field; left out of the committed facts (nothing compares it). */
  description?: string;
}

export interface SeedEndpoint {
  file: string;
  entity: string;
  method: string;
  path: string;
  security: string[];
  headers: SeedField[];
  pathParams: SeedField[];
  requestMediaType: string;
  requestFields: SeedField[];
  responseStatus: string;
  responseMediaType: string;
  responseFields: SeedField[];
}

const FIELD = /^`([^`]+)` \(([^)]*)\)\s*(.*)$/s;

function parseFields(section: string, file: string): SeedField[] {
  return section
    .split(/ - (?=`)/)
    .slice(1)
    .map((chunk) => {
      const m = FIELD.exec(chunk.trim());
      if (!m) throw new Error(`${file}: cannot parse field description "${chunk.slice(0, 60)}"`);
      const [, path = "", spec = "", description = ""] = m;
      const parts = spec.split(",").map((s) => s.trim());
      const required = parts.includes("required");
      const types = parts.filter((p) => p !== "required").sort();
      return { path, types, required, description: description.trim() };
    });
}

export function parseSeed(text: string, file: string): SeedEndpoint {
  const flat = text.replace(/\s+/g, " ").trim();
  const head =
    /^# Create or Update Batch (\w+) .*?Endpoint: (\w+) (\S+) .*?Security: ([^#]*?) ##/.exec(flat);
  if (!head) throw new Error(`${file}: no "Endpoint: METHOD /path" line`);
  const [, entity = "", method = "", path = "", security = ""] = head;
  const sections = new Map<string, string>();
  for (const part of flat.split(/ ## /).slice(1)) {
    const colon = part.indexOf(":");
    sections.set(part.slice(0, colon).trim(), part.slice(colon + 1));
  }
  const find = (prefix: string) => [...sections.keys()].find((k) => k.startsWith(prefix));
  const requestKey = find("Request fields");
  const responseKey = find("Response 2");
  if (!requestKey || !responseKey) throw new Error(`${file}: no request or 2xx response fields`);
  const mediaType = (key: string) => /\(([^)]+)\)/.exec(key)?.[1] ?? "";
  return {
    file,
    entity,
    method: method.toLowerCase(),
    path,
    security: security.split(",").map((s) => s.trim()),
    headers: parseFields(sections.get("Header parameters") ?? "", file),
    pathParams: parseFields(sections.get("Path parameters") ?? "", file),
    requestMediaType: mediaType(requestKey),
    requestFields: parseFields(sections.get(requestKey) ?? "", file),
    responseStatus: /Response (\d+)/.exec(responseKey)?.[1] ?? "",
    responseMediaType: mediaType(responseKey),
    responseFields: parseFields(sections.get(responseKey) ?? "", file),
  };
}

/** The facts the comparison uses: a seed without its descriptions (see test/fixtures/README.md). */
export function seedFacts(seed: SeedEndpoint): SeedEndpoint {
  const facts = (fields: SeedField[]) =>
    fields.map(({ path, types, required }) => ({ path, types, required }));
  return {
    ...seed,
    headers: facts(seed.headers),
    pathParams: facts(seed.pathParams),
    requestFields: facts(seed.requestFields),
    responseFields: facts(seed.responseFields),
  };
}

/** Reads and parses every `.txt` seed of a folder, in file-name order. */
export function readSeeds(dir: string): SeedEndpoint[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()
    .map((f) => parseSeed(readFileSync(join(dir, f), "utf8"), f));
}
