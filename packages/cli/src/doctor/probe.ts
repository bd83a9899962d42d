// The batch endpoints, without writing anything: one PUT per entity whose body is `{}`, JSON
// but not an array, which VBA must refuse as malformed (400) once the credentials, the
// User-Agent and the database have passed; a 401/403 means they did not.
import { type EntityName, entities, entityNames } from "@vbapi-sdk/client";
import { detailOf, pointsAt, request } from "./http.ts";
import type { Check, DoctorContext } from "./types.ts";

/**
 * The value for every path parameter (`providerCredKey`). It cannot lead to a write: the body
 * holds no record at all, so there is nothing to apply under any key; 0 is a valid int32, so
 * the path itself is not what gets refused.
 */
export const PROBE_PATH_VALUE = "0";

/** The probe's body: JSON, not an array of records. */
export const PROBE_BODY = "{}";

export function probePath(entity: EntityName): string {
  return entities[entity].path.replace(/\{[^}]+\}/g, PROBE_PATH_VALUE);
}

async function probeOne(ctx: DoctorContext, entity: EntityName): Promise<Check> {
  const id = `probe ${entity}`;
  const path = probePath(entity);
  const answer = await request(
    ctx,
    "PUT",
    path,
    {
      "x-api-key": ctx.env.VBAPI_API_KEY ?? "",
      authorization: `Bearer ${ctx.token ?? ""}`,
      "vbasoftware-database": ctx.database ?? "",
      "content-type": "application/json",
      accept: "application/json",
    },
    PROBE_BODY,
  );
  if ("error" in answer) {
    return {
      id,
      verdict: "fail",
      saw: `PUT ${path} got no answer: ${answer.error}`,
      fix: "run the doctor again; if it persists, VBA or the network drops batch requests",
      ms: answer.ms,
    };
  }
  const detail = detailOf(ctx, answer);
  const said = detail ? `: "${detail}"` : "";
  const { status, ms } = answer;
  const points = pointsAt(detail);
  if ((status === 400 || status === 422) && points.some((p) => p.startsWith("the database"))) {
    // Not the body: the database header itself was refused.
    return {
      id,
      verdict: "fail",
      saw: `PUT ${path} answered ${status}${said}; VBA's answer points at the database`,
      fix: "check --database / VBAPI_DATABASE",
      ms,
    };
  }
  if (status === 400 || status === 422) {
    return {
      id,
      verdict: "pass",
      saw: `PUT ${path} refused the malformed body (${status}): credentials, User-Agent and database accepted`,
      ms,
    };
  }
  if (status === 401 || status === 403) {
    const at = points.length > 0 ? `; VBA's answer points at ${points.join(", ")}` : "";
    return {
      id,
      verdict: "fail",
      saw: `PUT ${path} answered ${status}${said}${at}`,
      fix:
        status === 401
          ? `check ${points.length > 0 ? points.join(" and ") : "VBAPI_API_KEY and the token"}`
          : "403: the user may lack the permission for this entity, or the IP address is blocked; ask VBA support",
      ms,
    };
  }
  if (status === 429) {
    return {
      id,
      verdict: "warn",
      saw: `PUT ${path} was rate limited (429, Retry-After: ${answer.retryAfter ?? "none"})`,
      fix: "another process uses the same API key's budget; run the doctor again later",
      ms,
    };
  }
  if (status >= 200 && status < 300) {
    return {
      id,
      verdict: "warn",
      saw: `PUT ${path} accepted a body that is not an array (${status})`,
      fix: "nothing was in it to write, but this server does not check bodies as VBA does: is --base-url VBA?",
      ms,
    };
  }
  return {
    id,
    verdict: "fail",
    saw: `PUT ${path} answered ${status}${said}`,
    fix:
      status === 404
        ? "check --base-url: it should end with /vbasoftware"
        : "run the doctor again later; if it persists, tell VBA support (with the time of this check)",
    ms,
  };
}

/** One check per entity, in the entity table's order (sequential: a few requests, well under VBA's rate limit). */
export async function probeChecks(ctx: DoctorContext): Promise<Check[]> {
  const checks: Check[] = [];
  for (const entity of entityNames) checks.push(await probeOne(ctx, entity));
  return checks;
}
