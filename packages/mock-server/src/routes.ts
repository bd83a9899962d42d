// The route table: the spec's batch operations, compiled once (validators, path bindings,
// media types), and the lookup from a request path to its route.
import type { RouteInfo, SpecModel } from "./spec.ts";
import { compileValidators, type RouteValidators } from "./validate.ts";

/** A served route, as in the spec (frozen). */
export interface RouteSummary {
  readonly method: string;
  /** Path template. */
  readonly path: string;
  readonly operationId: string;
  readonly entity: string;
  readonly keyFields: readonly string[];
}

/** A batch route ready to serve. */
export interface CompiledRoute {
  info: RouteInfo;
  validators: RouteValidators;
  /** Path parameters that must equal a record field. */
  bindings: ReadonlyArray<{ param: string; field: string }>;
  responseTypes: ReadonlySet<string>;
  requestTypes: readonly string[];
}

/** What a path matched: the routes sharing its template (one per method) and the raw parameters. */
export interface RouteMatch {
  matched: readonly CompiledRoute[];
  params?: string[];
}

/** The batch routes of a spec, with a path lookup. */
export class RouteTable {
  readonly summaries: readonly RouteSummary[];
  /** Key fields per entity, for the store. */
  readonly keyFieldsByEntity: ReadonlyMap<string, readonly string[]>;
  private readonly staticRoutes = new Map<string, CompiledRoute[]>();
  private readonly dynamicRoutes: CompiledRoute[] = [];

  constructor(model: SpecModel) {
    const validators = compileValidators(model.routes);
    const keyFields = new Map<string, readonly string[]>();
    // Each entity's key fields, frozen copies (the spec's own arrays, maybe the caller's
    // document, stay as they are): handed out in `summaries` (server.routes) and used to key
    // the store, and the bundled spec's table is shared by every server of a process (server.ts).
    const frozenKeys = new Map<RouteInfo, readonly string[]>();
    for (const info of model.routes) frozenKeys.set(info, Object.freeze([...info.keyFields]));
    for (const info of model.routes) {
      keyFields.set(info.entity, frozenKeys.get(info) as readonly string[]);
      const route: CompiledRoute = {
        info,
        validators: validators.get(info) as RouteValidators,
        bindings: info.pathParams
          .filter((p) => p.recordField !== undefined)
          .map((p) => ({ param: p.name, field: p.recordField as string })),
        responseTypes: new Set(info.responseMediaTypes),
        requestTypes: info.requestMediaTypes,
      };
      if (info.pathParamNames.length === 0) {
        const list = this.staticRoutes.get(info.template) ?? [];
        list.push(route);
        this.staticRoutes.set(info.template, list);
      } else {
        this.dynamicRoutes.push(route);
      }
    }
    this.keyFieldsByEntity = keyFields;
    this.summaries = Object.freeze(
      model.routes.map((r) =>
        Object.freeze({
          method: r.method,
          path: r.template,
          operationId: r.operationId,
          entity: r.entity,
          keyFields: frozenKeys.get(r) as readonly string[],
        }),
      ),
    );
  }

  /** The routes whose template matches `path` (empty when none does). */
  match(path: string): RouteMatch {
    const fixed = this.staticRoutes.get(path);
    if (fixed) return { matched: fixed };
    for (const route of this.dynamicRoutes) {
      const m = route.info.pattern.exec(path);
      if (m) {
        const matched = this.dynamicRoutes.filter((r) => r.info.template === route.info.template);
        return { matched, params: m.slice(1) };
      }
    }
    return { matched: [] };
  }
}
