// Shared helpers for the tests: a spec reader and small fetch wrappers.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { MockServer } from "../src/index.ts";

const require = createRequire(import.meta.url);

/** The bundled spec, read independently of the server (tests take expectations from it). */
export const spec = JSON.parse(
  readFileSync(require.resolve("@vbapi-sdk/openapi/openapi.json"), "utf8"),
) as {
  paths: Record<string, Record<string, { requestBody: { content: Record<string, unknown> } }>>;
  components: {
    schemas: Record<
      string,
      Record<string, unknown> & { properties: Record<string, Record<string, unknown>> }
    >;
    examples: Record<string, { value: unknown }>;
  };
};

export type Json = Record<string, unknown>;

export interface BatchAnswer {
  status: number;
  contentType: string | null;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience for reading JSON answers
  json: any;
}

/**
 * PUTs a body to a path with valid credentials unless overridden: a string, bytes or a stream is
 * sent as it is, any other value as JSON.
 */
export async function put(
  server: MockServer,
  path: string,
  body: unknown,
  headers: Record<string, string | undefined> = {},
): Promise<BatchAnswer> {
  const all: Record<string, string> = {};
  const merged = {
    ...server.credentials.headers,
    "vbasoftware-database": "testdb",
    "content-type": "application/json",
    ...headers,
  };
  for (const [k, v] of Object.entries(merged)) if (v !== undefined) all[k] = v;
  const raw =
    typeof body === "string" || body instanceof Uint8Array || body instanceof ReadableStream;
  const res = await fetch(`${server.url}${path}`, {
    method: "PUT",
    headers: all,
    body: raw ? body : JSON.stringify(body),
    duplex: "half", // needed by a stream body; ignored for the others
  } as RequestInit);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    headers: res.headers,
    text,
    json,
  };
}

/** Calls the admin endpoint with the admin token. */
export async function admin(
  server: MockServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const init: RequestInit = { method, headers: { ...server.credentials.adminHeaders } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${server.url}/__admin${path}`, init);
  return { status: res.status, json: (await res.json()) as Json };
}

/** Spec routes with their entity schema name, read from the spec itself. */
export function specRoutes(): Array<{ template: string; entity: string; example: Json[] }> {
  const out: Array<{ template: string; entity: string; example: Json[] }> = [];
  for (const [template, item] of Object.entries(spec.paths)) {
    const op = item.put;
    if (!op) continue;
    const media = op.requestBody.content["application/json"] as {
      schema: { items: { $ref: string } };
      examples: Record<string, { $ref: string }>;
    };
    const entity = media.schema.items.$ref.split("/").pop() as string;
    const exampleRef = Object.values(media.examples)[0]?.$ref.split("/").pop() as string;
    out.push({ template, entity, example: spec.components.examples[exampleRef]?.value as Json[] });
  }
  return out;
}

/** Fills a template's path parameters from the first record of a batch (via x-vbapi-record-field). */
export function concretePath(template: string, records: Json[]): string {
  const params = (spec as unknown as { components: { parameters: Record<string, Json> } })
    .components.parameters;
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const param = Object.values(params).find((p) => p.name === name && p.in === "path");
    const field = param?.["x-vbapi-record-field"] as string;
    return String(records[0]?.[field]);
  });
}
