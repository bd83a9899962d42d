// Reads the bundled OpenAPI document and turns it into a route table. Nothing here knows any
// entity by name: paths, methods, key fields, header and path parameters all come from the spec.
// The batch operations are found by the shared spec model (`@vbapi-sdk/tool-spec-model`, inlined
// into dist at build time); its types stay in this file, so none reach the public declarations.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
  asArray,
  type BatchOperation,
  findBatchOperations,
  HTTP_METHODS,
  inlineRefs,
  isObject,
  type Json,
  type JsonObject,
  type OperationParameter,
  resolveRef,
} from "@vbapi-sdk/tool-spec-model";

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

/** The keys of the `content` map of a (possibly referenced) request body or response. */
function mediaTypesOf(doc: Json, value: Json | undefined): string[] {
  const resolved = resolveRef(doc, value);
  return isObject(resolved) && isObject(resolved.content) ? Object.keys(resolved.content) : [];
}

function parameterInfo(doc: Json, p: OperationParameter): ParameterInfo {
  const info: ParameterInfo = {
    name: p.name,
    in: p.in as ParameterInfo["in"],
    required: p.required,
    schema: inlineRefs(doc, p.object.schema ?? {}) as JsonSchema,
  };
  if (p.recordField !== undefined) info.recordField = p.recordField;
  return info;
}

function securityChecks(doc: Json, requirement: Json | undefined): SecurityCheck[] {
  if (!isObject(requirement)) return [];
  const schemes = isObject(doc) && isObject(doc.components) ? doc.components.securitySchemes : {};
  const checks: SecurityCheck[] = [];
  for (const name of Object.keys(requirement)) {
    const scheme = resolveRef(doc, isObject(schemes) ? schemes[name] : undefined);
    if (!isObject(scheme)) throw new Error(`Unknown security scheme ${name}`);
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

/** The header parameters of an operation (the path item's and its own, its own winning). */
function headerParamsOf(doc: Json, pathItem: JsonObject, operation: JsonObject): ParameterInfo[] {
  const byName = new Map<string, ParameterInfo>();
  for (const raw of [...asArray(pathItem.parameters), ...asArray(operation.parameters)]) {
    const p = resolveRef(doc, raw);
    if (!isObject(p) || p.in !== "header" || typeof p.name !== "string") continue;
    const schema = inlineRefs(doc, p.schema ?? {}) as JsonSchema;
    byName.set(p.name, { name: p.name, in: "header", required: p.required === true, schema });
  }
  return [...byName.values()];
}

/** The login: the one operation whose own security requirement asks for HTTP Basic. */
function findLogin(
  doc: Json,
  paths: JsonObject,
): { info: LoginRouteInfo; operation: JsonObject } | undefined {
  let found: { info: LoginRouteInfo; operation: JsonObject } | undefined;
  for (const [template, rawItem] of Object.entries(paths)) {
    const pathItem = resolveRef(doc, rawItem);
    if (!isObject(pathItem)) continue;
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method];
      if (!isObject(operation) || !Array.isArray(operation.security)) continue;
      const checks = securityChecks(doc, operation.security[0]);
      if (!checks.some((c) => c.kind === "basic")) continue;
      if (found) throw new Error("More than one operation asks for HTTP Basic (a login)");
      const responses = isObject(operation.responses) ? operation.responses : {};
      const info: LoginRouteInfo = {
        template,
        method: method.toUpperCase(),
        operationId: String(operation.operationId ?? `${method} ${template}`),
        headerParams: headerParamsOf(doc, pathItem, operation),
        security: checks,
        responseMediaTypes: mediaTypesOf(doc, responses["200"]),
      };
      found = { info, operation };
    }
  }
  return found;
}

function routeInfo(doc: Json, op: BatchOperation): RouteInfo {
  const { pattern, names } = compileTemplate(op.path);
  const responses = isObject(op.operation.responses) ? op.operation.responses : {};
  return {
    template: op.path,
    method: op.method.toUpperCase(),
    operationId: op.operationId,
    entity: op.entity,
    keyFields: op.keys,
    bodySchema: inlineRefs(doc, op.bodySchema) as JsonSchema,
    requestMediaTypes: mediaTypesOf(doc, op.operation.requestBody),
    responseMediaTypes: mediaTypesOf(doc, responses["207"]),
    headerParams: op.parameters.filter((p) => p.in === "header").map((p) => parameterInfo(doc, p)),
    pathParams: op.pathParams.map((p) => parameterInfo(doc, p)),
    pattern,
    pathParamNames: names,
  };
}

/** Digests an OpenAPI document into routes and security checks. */
export function buildSpecModel(document: OpenApiDocument): SpecModel {
  const doc = document as unknown as Json;
  const paths = Object.keys(document.paths ?? {});
  const login = findLogin(doc, isObject(document.paths) ? document.paths : {});
  const routes = findBatchOperations(doc)
    .filter((op) => op.operation !== login?.operation)
    // Serve (and list) the routes in the spec's path order, not the spec model's entity order.
    .sort((a, b) => paths.indexOf(a.path) - paths.indexOf(b.path))
    .map((op) => routeInfo(doc, op));
  const model: SpecModel = {
    document,
    routes,
    security: securityChecks(doc, document.security?.[0]),
  };
  if (login) model.login = login.info;
  return model;
}
