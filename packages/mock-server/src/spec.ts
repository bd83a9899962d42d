// Reads the bundled OpenAPI document and turns it into a route table. Nothing here knows any
// entity by name: paths, methods, key fields, header and path parameters all come from the spec.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** A parsed OpenAPI 3.1 document (only the parts the mock server reads are typed). */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
  security?: Array<Record<string, string[]>>;
  [key: string]: unknown;
}

/** A JSON Schema object as found in the spec. */
export type JsonSchema = Record<string, unknown>;

/** How a request must authenticate: every scheme of one requirement object must pass. */
export type SecurityCheck =
  | { kind: "apiKeyHeader"; scheme: string; header: string }
  | { kind: "bearer"; scheme: string }
  | { kind: "basic"; scheme: string };

/** A parameter of an operation (header or path), with its resolved schema. */
export interface ParameterInfo {
  name: string;
  in: "header" | "path" | "query" | "cookie";
  required: boolean;
  schema: JsonSchema;
  /** `x-vbapi-record-field`: the record field that must equal this parameter's value. */
  recordField?: string;
}

/** One batch operation of the spec. */
export interface RouteInfo {
  /** Path template as written in the spec, e.g. `/provider-credentialing/{providerCredKey}/services-batch`. */
  template: string;
  /** Upper-case HTTP method. */
  method: string;
  operationId: string;
  /** Entity name: the component schema name of the array items (e.g. `Tolerance`). */
  entity: string;
  /** Key field names from the entity schema's `x-vbapi-key`. */
  keyFields: readonly string[];
  /** The request body schema (the array), references resolved. */
  bodySchema: JsonSchema;
  /** Request body media types the operation accepts. */
  requestMediaTypes: readonly string[];
  /** Media types the 207 answer is offered in, in spec order. */
  responseMediaTypes: readonly string[];
  headerParams: readonly ParameterInfo[];
  pathParams: readonly ParameterInfo[];
  /** Regular expression matching concrete paths; one capture group per path parameter. */
  pattern: RegExp;
  /** Names of the path parameters, in capture-group order. */
  pathParamNames: readonly string[];
}

/** The login operation: the one whose own security requirement asks for HTTP Basic. */
export interface LoginRouteInfo {
  template: string;
  /** Upper-case HTTP method. */
  method: string;
  operationId: string;
  /** Header parameters (client id, client code, database). */
  headerParams: readonly ParameterInfo[];
  /** The operation's security checks (API key header and Basic). */
  security: readonly SecurityCheck[];
  /** Media types of the 200 answer, in spec order. */
  responseMediaTypes: readonly string[];
}

/** The spec, digested. */
export interface SpecModel {
  document: OpenApiDocument;
  routes: readonly RouteInfo[];
  /** The document's security: what every batch route asks for. */
  security: readonly SecurityCheck[];
  /** The login operation, when the spec has one. */
  login?: LoginRouteInfo;
}

const require = createRequire(import.meta.url);

/** Loads `@vbapi-sdk/openapi/openapi.json` from disk. */
export function loadBundledSpec(): OpenApiDocument {
  const file = require.resolve("@vbapi-sdk/openapi/openapi.json");
  return JSON.parse(readFileSync(file, "utf8")) as OpenApiDocument;
}

function decodePointerToken(token: string): string {
  return decodeURIComponent(token).replace(/~1/g, "/").replace(/~0/g, "~");
}

/** Resolves a local JSON pointer reference (`#/components/...`) against the document. */
export function resolvePointer(document: unknown, ref: string): unknown {
  if (!ref.startsWith("#")) throw new Error(`Only local references are supported, got ${ref}`);
  let node: unknown = document;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    if (node === null || typeof node !== "object") throw new Error(`Unresolvable reference ${ref}`);
    node = (node as Record<string, unknown>)[decodePointerToken(raw)];
  }
  if (node === undefined) throw new Error(`Unresolvable reference ${ref}`);
  return node;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Follows `$ref` chains on one object (shallow). */
function deref<T>(document: unknown, value: unknown): T {
  let node = value;
  for (let hops = 0; isObject(node) && typeof node.$ref === "string"; hops++) {
    if (hops > 32) throw new Error("Reference cycle");
    node = resolvePointer(document, node.$ref);
  }
  return node as T;
}

/** Returns a copy of `schema` with every local `$ref` replaced by its target (deep). */
export function inlineRefs(document: unknown, schema: unknown, depth = 0): unknown {
  if (depth > 64) throw new Error("Schema nesting too deep (reference cycle?)");
  if (Array.isArray(schema)) return schema.map((item) => inlineRefs(document, item, depth + 1));
  if (!isObject(schema)) return schema;
  if (typeof schema.$ref === "string") {
    const { $ref, ...siblings } = schema;
    const target = inlineRefs(document, resolvePointer(document, $ref), depth + 1);
    return Object.keys(siblings).length === 0 ? target : { allOf: [target], ...siblings };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema))
    out[key] = inlineRefs(document, value, depth + 1);
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compileTemplate(template: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  let source = "^";
  let last = 0;
  for (const match of template.matchAll(/\{([^}]+)\}/g)) {
    source += escapeRegExp(template.slice(last, match.index));
    source += "([^/]+)";
    names.push(match[1] as string);
    last = (match.index ?? 0) + match[0].length;
  }
  source += `${escapeRegExp(template.slice(last))}$`;
  return { pattern: new RegExp(source), names };
}

const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

function securityChecks(
  document: OpenApiDocument,
  requirement: Record<string, string[]> | undefined,
): SecurityCheck[] {
  if (!requirement) return [];
  const schemes = (document.components?.securitySchemes ?? {}) as Record<string, unknown>;
  const checks: SecurityCheck[] = [];
  for (const name of Object.keys(requirement)) {
    const scheme = deref<Record<string, unknown>>(document, schemes[name]);
    if (!scheme) throw new Error(`Unknown security scheme ${name}`);
    if (scheme.type === "apiKey" && scheme.in === "header" && typeof scheme.name === "string") {
      checks.push({ kind: "apiKeyHeader", scheme: name, header: scheme.name.toLowerCase() });
    } else if (scheme.type === "http" && String(scheme.scheme).toLowerCase() === "bearer") {
      checks.push({ kind: "bearer", scheme: name });
    } else if (scheme.type === "http" && String(scheme.scheme).toLowerCase() === "basic") {
      checks.push({ kind: "basic", scheme: name });
    } else {
      throw new Error(`Unsupported security scheme ${name}`);
    }
  }
  return checks;
}

/** Digests an OpenAPI document into routes and security checks. */
export function buildSpecModel(document: OpenApiDocument): SpecModel {
  const routes: RouteInfo[] = [];
  let login: LoginRouteInfo | undefined;
  for (const [template, rawItem] of Object.entries(document.paths ?? {})) {
    const pathItem = deref<Record<string, unknown>>(document, rawItem);
    const sharedParams = (pathItem.parameters as unknown[] | undefined) ?? [];
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method] as Record<string, unknown> | undefined;
      if (!operation) continue;
      const params = new Map<string, ParameterInfo>();
      for (const raw of [...sharedParams, ...((operation.parameters as unknown[]) ?? [])]) {
        const p = deref<Record<string, unknown>>(document, raw);
        const info: ParameterInfo = {
          name: String(p.name),
          in: p.in as ParameterInfo["in"],
          required: p.required === true,
          schema: inlineRefs(document, p.schema ?? {}) as JsonSchema,
        };
        if (typeof p["x-vbapi-record-field"] === "string")
          info.recordField = p["x-vbapi-record-field"];
        params.set(`${info.in}:${info.name}`, info);
      }
      const own = operation.security as Array<Record<string, string[]>> | undefined;
      const ownChecks = own ? securityChecks(document, own[0]) : [];
      if (ownChecks.some((c) => c.kind === "basic")) {
        if (login) throw new Error("More than one operation asks for HTTP Basic (a login)");
        login = {
          template,
          method: method.toUpperCase(),
          operationId: String(operation.operationId ?? `${method} ${template}`),
          headerParams: [...params.values()].filter((p) => p.in === "header"),
          security: ownChecks,
          responseMediaTypes: Object.keys(
            deref<Record<string, unknown>>(
              document,
              (operation.responses as Record<string, unknown> | undefined)?.["200"] ?? {},
            ).content ?? {},
          ),
        };
        continue;
      }
      const requestBody = deref<Record<string, unknown>>(document, operation.requestBody ?? {});
      const content = (requestBody.content ?? {}) as Record<string, { schema?: unknown }>;
      const requestMediaTypes = Object.keys(content);
      const first = content[requestMediaTypes[0] ?? ""];
      if (!first?.schema) continue; // not a batch operation: nothing to serve
      const rawSchema = deref<Record<string, unknown>>(document, first.schema);
      const rawItems = rawSchema.items as Record<string, unknown> | undefined;
      const itemRef = typeof rawItems?.$ref === "string" ? rawItems.$ref : undefined;
      const itemSchema = deref<Record<string, unknown>>(document, rawItems ?? {});
      const keyFields = itemSchema["x-vbapi-key"];
      if (rawSchema.type !== "array" || !Array.isArray(keyFields)) continue;
      const entity =
        itemRef?.split("/").pop() ??
        (typeof itemSchema.title === "string" ? itemSchema.title : String(operation.operationId));
      const responses = (operation.responses ?? {}) as Record<string, unknown>;
      const multi = deref<Record<string, unknown>>(document, responses["207"] ?? {});
      const { pattern, names } = compileTemplate(template);
      const all = [...params.values()];
      routes.push({
        template,
        method: method.toUpperCase(),
        operationId: String(operation.operationId ?? `${method} ${template}`),
        entity,
        keyFields: keyFields.map(String),
        bodySchema: inlineRefs(document, rawSchema) as JsonSchema,
        requestMediaTypes,
        responseMediaTypes: Object.keys((multi.content ?? {}) as object),
        headerParams: all.filter((p) => p.in === "header"),
        pathParams: names.map(
          (name) =>
            params.get(`path:${name}`) ?? {
              name,
              in: "path",
              required: true,
              schema: { type: "string" },
            },
        ),
        pattern,
        pathParamNames: names,
      });
    }
  }
  const model: SpecModel = {
    document,
    routes,
    security: securityChecks(document, document.security?.[0]),
  };
  if (login) model.login = login;
  return model;
}
