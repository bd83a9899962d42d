// Walks the operations of two documents: pairs them up (recognising renamed paths and path
// parameters), then compares parameters, request bodies, responses and security. Schemas are
// handed to the rule table in schema-rules.ts.
import { HTTP_METHODS, isObject } from "@vbapi-sdk/tool-spec-model";
import {
  catchAll,
  compareDocs,
  type DiffContext,
  type Direction,
  emit,
  extensionKeys,
  list,
  same,
  schemaContext,
} from "./context.ts";
import { deref, type Obj } from "./refs.ts";
import { compareSchema } from "./schema-rules.ts";

interface Operation {
  method: string;
  path: string;
  operation: Obj;
  pathItem: Obj;
}
const operationKey = (o: { method: string; path: string }) => `${o.method.toUpperCase()} ${o.path}`;
/** "/a/{x}/b" → "/a/{}/b", to recognise a renamed path parameter. */
const pathShape = (path: string) => path.replace(/\{[^}]*\}/g, "{}");
const pathParamNames = (path: string) => [...path.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? "");

function operationsOf(doc: Obj): Map<string, Operation> {
  const found = new Map<string, Operation>();
  for (const [path, raw] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    const pathItem = deref(doc, raw).node;
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method];
      if (isObject(operation))
        found.set(operationKey({ method, path }), { method, path, operation, pathItem });
    }
  }
  return found;
}

/** Parameters keyed by "in name"; path parameters by position, so a renamed one still pairs up. */
function parametersOf(doc: Obj, o: Operation): Map<string, Obj> {
  const params = new Map<string, Obj>();
  const positions = pathParamNames(o.path);
  const raws = [o.pathItem.parameters, o.operation.parameters].flatMap((l) =>
    Array.isArray(l) ? l : [],
  );
  for (const raw of raws) {
    const param = deref(doc, raw).node;
    const key =
      param.in === "path"
        ? `path #${positions.indexOf(String(param.name))}`
        : `${param.in} ${param.name}`;
    params.set(key, param);
  }
  return params;
}

function compareContent(
  ctx: DiffContext,
  rawBefore: unknown,
  rawAfter: unknown,
  where: string,
  direction: Direction,
): void {
  const before = isObject(rawBefore) ? rawBefore : {};
  const after = isObject(rawAfter) ? rawAfter : {};
  for (const media of Object.keys(before)) {
    if (!(media in after))
      emit(ctx, "breaking", where, `media type ${media} dropped`, "media-type-removed");
  }
  for (const media of Object.keys(after)) {
    if (!(media in before))
      emit(ctx, "non-breaking", where, `media type ${media} added`, "media-type-added");
  }
  for (const media of Object.keys(before).filter((m) => m in after)) {
    const mediaBefore = deref(ctx.beforeDoc, before[media]).node;
    const mediaAfter = deref(ctx.afterDoc, after[media]).node;
    compareSchema(schemaContext(ctx, direction, where), mediaBefore.schema, mediaAfter.schema);
    compareDocs(ctx, mediaBefore, mediaAfter, where, ["example", "examples"]);
  }
}

function compareParameters(ctx: DiffContext, before: Operation, after: Operation, where: string) {
  const paramsBefore = parametersOf(ctx.beforeDoc, before);
  const paramsAfter = parametersOf(ctx.afterDoc, after);
  const label = (param: Obj) => `${where} › ${param.in} parameter ${param.name}`;
  for (const [key, old] of paramsBefore) {
    const now = paramsAfter.get(key);
    if (!now) {
      // The generated client drops the argument, so callers passing it no longer compile.
      emit(ctx, "breaking", label(old), "parameter removed", "parameter-removed");
      continue;
    }
    const at = label(now);
    if (!old.required && now.required)
      emit(ctx, "breaking", at, "parameter made required", "parameter-required");
    if (old.required && !now.required)
      emit(ctx, "non-breaking", at, "parameter made optional", "parameter-required");
    for (const key of ["style", "explode", "allowReserved"]) {
      if (!same(old[key], now[key]))
        emit(ctx, "breaking", at, `${key} changed: serialisation differs`, "parameter-style");
    }
    if (!same(old.deprecated ?? false, now.deprecated ?? false)) {
      const message = now.deprecated ? "deprecated" : "no longer deprecated";
      emit(ctx, "non-breaking", at, message, "deprecated");
    }
    compareSchema(schemaContext(ctx, "request", at), old.schema, now.schema);
    if (old.content || now.content) compareContent(ctx, old.content, now.content, at, "request");
    const docKeys = ["description", "example", "examples", ...extensionKeys(old, now)];
    compareDocs(ctx, old, now, at, docKeys);
  }
  for (const [key, now] of paramsAfter) {
    if (paramsBefore.has(key)) continue;
    if (now.required)
      emit(ctx, "breaking", label(now), "required parameter added", "parameter-added");
    else emit(ctx, "non-breaking", label(now), "optional parameter added", "parameter-added");
  }
}

function compareRequestBody(ctx: DiffContext, before: Operation, after: Operation, where: string) {
  const [rawBefore, rawAfter] = [before.operation.requestBody, after.operation.requestBody];
  if (rawBefore === undefined && rawAfter === undefined) return;
  if (rawBefore === undefined) {
    const required = deref(ctx.afterDoc, rawAfter).node.required === true;
    const message = `${required ? "required" : "optional"} request body added`;
    emit(ctx, required ? "breaking" : "non-breaking", where, message, "request-body");
    return;
  }
  if (rawAfter === undefined) {
    emit(ctx, "breaking", where, "request body removed", "request-body");
    return;
  }
  const bodyBefore = deref(ctx.beforeDoc, rawBefore).node;
  const bodyAfter = deref(ctx.afterDoc, rawAfter).node;
  if (!bodyBefore.required && bodyAfter.required)
    emit(ctx, "breaking", where, "request body made required", "request-body");
  if (bodyBefore.required && !bodyAfter.required)
    emit(ctx, "non-breaking", where, "request body made optional", "request-body");
  compareContent(ctx, bodyBefore.content, bodyAfter.content, where, "request");
  const docKeys = ["description", ...extensionKeys(bodyBefore, bodyAfter)];
  compareDocs(ctx, bodyBefore, bodyAfter, where, docKeys);
}

function compareResponseHeaders(ctx: DiffContext, before: Obj, after: Obj, where: string) {
  const headersBefore = isObject(before.headers) ? before.headers : {};
  const headersAfter = isObject(after.headers) ? after.headers : {};
  for (const name of Object.keys(headersBefore)) {
    const at = `${where} › header ${name}`;
    if (!(name in headersAfter)) {
      emit(ctx, "breaking", at, "response header removed", "response-header");
      continue;
    }
    const headerBefore = deref(ctx.beforeDoc, headersBefore[name]).node;
    const headerAfter = deref(ctx.afterDoc, headersAfter[name]).node;
    compareSchema(schemaContext(ctx, "response", at), headerBefore.schema, headerAfter.schema);
  }
  for (const name of Object.keys(headersAfter)) {
    if (!(name in headersBefore))
      emit(
        ctx,
        "non-breaking",
        `${where} › header ${name}`,
        "response header added",
        "response-header",
      );
  }
}

function compareResponses(ctx: DiffContext, before: Operation, after: Operation, where: string) {
  const responsesBefore = isObject(before.operation.responses) ? before.operation.responses : {};
  const responsesAfter = isObject(after.operation.responses) ? after.operation.responses : {};
  for (const status of Object.keys(responsesBefore)) {
    const at = `${where} › response ${status}`;
    if (!(status in responsesAfter)) {
      emit(ctx, "breaking", at, `response status ${status} removed`, "response-removed");
      continue;
    }
    const responseBefore = deref(ctx.beforeDoc, responsesBefore[status]).node;
    const responseAfter = deref(ctx.afterDoc, responsesAfter[status]).node;
    compareContent(ctx, responseBefore.content, responseAfter.content, at, "response");
    compareResponseHeaders(ctx, responseBefore, responseAfter, at);
    const docKeys = ["description", ...extensionKeys(responseBefore, responseAfter)];
    compareDocs(ctx, responseBefore, responseAfter, at, docKeys);
  }
  for (const status of Object.keys(responsesAfter)) {
    if (status in responsesBefore) continue;
    const at = `${where} › response ${status}`;
    emit(ctx, "non-breaking", at, `response status ${status} added`, "response-added");
  }
}

/** One alternative of a security requirement: scheme → scopes. */
type Requirement = Map<string, string[]>;
function securityOf(doc: Obj, operation: Obj): Requirement[] {
  const requirements = Array.isArray(operation.security)
    ? operation.security
    : Array.isArray(doc.security)
      ? doc.security
      : [];
  const alternatives = requirements
    .filter(isObject)
    .map((r) => new Map(Object.entries(r).map(([k, v]) => [k, (v as string[]) ?? []])));
  return alternatives.length ? alternatives : [new Map()]; // no requirement: anonymous calls are allowed
}
/** Whether a client that satisfies `have` also satisfies one of the alternatives in `need`. */
const satisfies = (have: Requirement, need: Requirement[]) =>
  need.some((alternative) =>
    [...alternative].every(
      ([scheme, scopes]) => have.has(scheme) && scopes.every((s) => have.get(scheme)?.includes(s)),
    ),
  );
const showSecurity = (alternatives: Requirement[]) =>
  alternatives
    .map((alternative) =>
      alternative.size
        ? [...alternative].map(([k, s]) => (s.length ? `${k}(${s.join(",")})` : k)).join(" + ")
        : "none",
    )
    .join(" or ");

function compareSecurity(ctx: DiffContext, before: Operation, after: Operation, where: string) {
  const securityBefore = securityOf(ctx.beforeDoc, before.operation);
  const securityAfter = securityOf(ctx.afterDoc, after.operation);
  if (showSecurity(securityBefore) === showSecurity(securityAfter)) return;
  const message = `security requirements changed from ${showSecurity(securityBefore)} to ${showSecurity(securityAfter)}`;
  // Breaking when a client that could call before can no longer.
  const broken = securityBefore.some((alternative) => !satisfies(alternative, securityAfter));
  emit(ctx, broken ? "breaking" : "non-breaking", where, message, "security");
}

const OPERATION_KEYS = new Set([
  "operationId",
  "parameters",
  "requestBody",
  "responses",
  "security",
  "deprecated",
  "tags",
]);

function compareOperation(ctx: DiffContext, before: Operation, after: Operation): void {
  const where = operationKey(before);
  const [old, now] = [before.operation, after.operation];
  if (!same(old.operationId, now.operationId)) {
    const message = `operationId changed from ${old.operationId} to ${now.operationId}`;
    emit(ctx, "breaking", where, message, "operation-id");
  }
  if (!same(old.deprecated ?? false, now.deprecated ?? false)) {
    const message = now.deprecated ? "deprecated" : "no longer deprecated";
    emit(ctx, "non-breaking", where, message, "deprecated");
  }
  if (!same(old.tags, now.tags)) {
    const message = `tags changed from ${list((old.tags as unknown[]) ?? [])} to ${list((now.tags as unknown[]) ?? [])}`;
    emit(ctx, "non-breaking", where, message, "tags");
  }
  compareParameters(ctx, before, after, where);
  compareRequestBody(ctx, before, after, `${where} › request`);
  compareResponses(ctx, before, after, where);
  compareSecurity(ctx, before, after, where);
  compareDocs(ctx, old, now, where);
  catchAll(ctx, old, now, where, OPERATION_KEYS, "non-breaking");
}

/** The operation of `after` that `before` became: same key, a renamed path parameter or path. */
function counterpart(
  ctx: DiffContext,
  key: string,
  before: Operation,
  after: Map<string, Operation>,
  unmatched: Map<string, Operation>,
): Operation | undefined {
  const direct = after.get(key);
  if (direct) return direct;
  const candidates = [...unmatched.values()].filter((o) => o.method === before.method);
  const reshaped = candidates.find((o) => pathShape(o.path) === pathShape(before.path));
  if (reshaped) {
    const newNames = pathParamNames(reshaped.path);
    const renames = pathParamNames(before.path)
      .map((name, i) => [name, newNames[i]])
      .filter(([oldName, newName]) => oldName !== newName)
      .map(([oldName, newName]) => `{${oldName}} → {${newName}}`);
    const message = `path parameter renamed: ${renames.join(", ")} (now ${reshaped.path})`;
    emit(ctx, "breaking", key, message, "path-param-renamed");
    return reshaped;
  }
  if (!before.operation.operationId) return undefined;
  const moved = candidates.find((o) => o.operation.operationId === before.operation.operationId);
  if (moved) emit(ctx, "breaking", key, `path renamed to ${operationKey(moved)}`, "path-renamed");
  return moved;
}

export function compareOperations(ctx: DiffContext): void {
  const before = operationsOf(ctx.beforeDoc);
  const after = operationsOf(ctx.afterDoc);
  const unmatched = new Map([...after].filter(([key]) => !before.has(key)));
  for (const [key, old] of before) {
    const now = counterpart(ctx, key, old, after, unmatched);
    if (!now) {
      const pathGone = ![...after.values()].some((o) => o.path === old.path);
      const message = pathGone
        ? "operation removed (the path is gone)"
        : `method ${old.method.toUpperCase()} removed`;
      emit(ctx, "breaking", key, message, "operation-removed");
      continue;
    }
    unmatched.delete(operationKey(now));
    compareOperation(ctx, old, now);
  }
  for (const [key, added] of unmatched) {
    const message = `operation ${added.operation.operationId ?? ""} added`.replace("  ", " ");
    emit(ctx, "non-breaking", key, message, "operation-added");
  }
}
