// The batch handler: what happens to a request that passed the gatekeeping. Parameters
// (400), Content-Type (415), size (413), JSON and schema (400), the records applied in order,
// and the 207 envelope; the faults strike at their points along the way.
import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestContext } from "./faults.ts";
import { acceptsMediaType, negotiate, type Responder, readBody } from "./http.ts";
import type { RequestLogEntry } from "./options.ts";
import { type ProblemDetails, problem } from "./problem.ts";
import type { CompiledRoute } from "./routes.ts";
import type { ServerState } from "./state.ts";
import { type KeyValue, keyString } from "./store.ts";
import { coerceParam, describeErrors, validateBody } from "./validate.ts";

type Records = Array<Record<string, unknown>>;
type DataEntry = { id: KeyValue[]; status: number; body: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One request on its way through the batch handler. */
export interface BatchRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** The path below `basePath`. */
  path: string;
  route: CompiledRoute;
  /** Raw path parameter texts, in template order. */
  params: readonly string[] | undefined;
  entry: RequestLogEntry;
}

/** Serves the batch routes. */
export class BatchHandler {
  constructor(
    private readonly state: ServerState,
    private readonly out: Responder,
    private readonly limits: { maxBodyBytes: number; maxErrors: number },
  ) {}

  async handle(r: BatchRequest): Promise<void> {
    const { req, res, path, route } = r;
    const info = route.info;
    const faults = this.state.faults;
    const databaseHeader = req.headers["vbasoftware-database"];
    const ctx: RequestContext = {
      path,
      template: info.template,
      entity: info.entity,
      database: typeof databaseHeader === "string" ? databaseHeader : "",
    };
    const anyFaults = !faults.empty;
    if (anyFaults) {
      const fail = faults.take("status", ctx);
      if (fail) {
        r.entry.fault = "status";
        const extra =
          fail.retryAfter === undefined ? {} : { "retry-after": String(fail.retryAfter) };
        this.out.problem(
          res,
          problem(fail.status, fail.detail ?? "Injected failure.", path),
          extra,
        );
        return;
      }
    }
    const pathValues = this.checkParams(r);
    if (!pathValues) return;
    const records = await this.readRecords(r, anyFaults, ctx);
    if (!records) return;
    r.entry.records = records.length;

    if (anyFaults && faults.take("reset-connection", ctx, "before-apply")) {
      r.entry.fault = "reset-connection";
      this.out.resetSocket(req);
      return;
    }
    const { data, failed } = this.apply(route, ctx, records, pathValues, anyFaults);
    if (anyFaults) {
      if (faults.take("reset-connection", ctx, "after-apply")) {
        r.entry.fault = "reset-connection";
        this.out.resetSocket(req);
        return;
      }
      const wait = faults.take("delay", ctx, "after-apply");
      if (wait) await sleep(wait.ms);
    }
    this.answer(r, ctx, data, failed, records.length, anyFaults);
  }

  /** Header and path parameters from the spec; the path values, or undefined when answered. */
  private checkParams(r: BatchRequest): Map<string, unknown> | undefined {
    const { req, res, path, route } = r;
    const info = route.info;
    const refuse = (detail: string) => {
      this.out.problem(res, problem(400, detail, path));
      return undefined;
    };
    for (const param of info.headerParams) {
      const name = param.name.toLowerCase();
      const value = req.headers[name];
      if (value === undefined) {
        if (param.required) return refuse(`The ${param.name} header is required.`);
        continue;
      }
      const check = route.validators.headerParams.get(name);
      if (check && !check(value)) {
        return refuse(`header ${param.name}: ${check.errors?.[0]?.message ?? "is invalid"}`);
      }
    }
    const pathValues = new Map<string, unknown>();
    for (let i = 0; i < info.pathParamNames.length; i++) {
      const name = info.pathParamNames[i] as string;
      const param = info.pathParams[i];
      let text: string;
      try {
        text = decodeURIComponent(r.params?.[i] ?? "");
      } catch {
        return refuse(`path parameter ${name}: is not valid percent-encoding`);
      }
      const value = param ? coerceParam(text, param.schema) : text;
      const check = route.validators.pathParams.get(name);
      if (check && !check(value)) {
        return refuse(`path parameter ${name}: ${check.errors?.[0]?.message ?? "is invalid"}`);
      }
      pathValues.set(name, value);
    }
    return pathValues;
  }

  /** Content-Type, size, JSON and schema; the records, or undefined when answered. */
  private async readRecords(
    r: BatchRequest,
    anyFaults: boolean,
    ctx: RequestContext,
  ): Promise<Records | undefined> {
    const { req, res, path, route } = r;
    const { maxBodyBytes, maxErrors } = this.limits;
    const contentType = req.headers["content-type"];
    if (contentType && !acceptsMediaType(contentType, route.requestTypes)) {
      const detail = `Send the body as one of: ${route.requestTypes.join(", ")}.`;
      this.out.problem(res, problem(415, detail, path));
      return undefined;
    }
    const tooLarge = () =>
      problem(413, `The body exceeds the limit of ${maxBodyBytes} bytes.`, path);
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      this.out.rejectBody(req, res, tooLarge());
      return undefined;
    }
    const read = await readBody(req, maxBodyBytes);
    if (!read.ok) {
      if (read.reason === "too-large") this.out.rejectBody(req, res, tooLarge());
      return undefined; // aborted: nobody to answer
    }
    if (anyFaults) {
      const wait = this.state.faults.take("delay", ctx, "before-apply");
      if (wait) await sleep(wait.ms);
    }
    if (!isUtf8(read.bytes)) {
      this.out.problem(res, problem(400, "The body is not valid UTF-8; send JSON in UTF-8.", path));
      return undefined;
    }
    const text = read.bytes.toString("utf8");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      const detail =
        text.trim() === ""
          ? "The body is empty; send a JSON array of records."
          : "The body is not valid JSON.";
      this.out.problem(res, problem(400, detail, path));
      return undefined;
    }
    const invalid = validateBody(route.validators, body, maxErrors);
    if (invalid) {
      const p = problem(400, describeErrors(invalid.errors, invalid.total), path);
      p.errors = invalid.errors;
      this.out.problem(res, p);
      return undefined;
    }
    return body as Records;
  }

  /** Applies the records in input order; the 207 `data` and the number of failures. */
  private apply(
    route: CompiledRoute,
    ctx: RequestContext,
    records: Records,
    pathValues: ReadonlyMap<string, unknown>,
    anyFaults: boolean,
  ): { data: DataEntry[]; failed: number } {
    const { store, faults, stats } = this.state;
    const recordFaults = anyFaults && faults.hasRecordFaults(ctx);
    const keyFields = route.info.keyFields;
    const data: DataEntry[] = [];
    let failed = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as Record<string, unknown>;
      const id: KeyValue[] = new Array(keyFields.length);
      const values: unknown[] = new Array(keyFields.length);
      for (let k = 0; k < keyFields.length; k++) {
        const field = keyFields[k] as string;
        values[k] = record[field];
        id[k] = { key: field, value: record[field] };
      }
      const binding = route.bindings.find((b) => record[b.field] !== pathValues.get(b.param));
      if (binding) {
        failed++;
        stats.records.failed++;
        const body = `${binding.field} does not match the ${binding.param} path parameter.`;
        data.push({ id, status: 400, body });
        continue;
      }
      const decision = recordFaults ? faults.decideRecord(ctx, record, i) : undefined;
      if (decision?.kind === "fail") {
        failed++;
        stats.records.failed++;
        if (decision.omit) stats.records.omitted++;
        else data.push({ id, status: decision.status, body: decision.message });
        continue;
      }
      const outcome = store.upsert(ctx.database, route.info.entity, id, keyString(values), record);
      stats.records[outcome]++;
      if (decision?.kind === "omit") stats.records.omitted++;
      else if (outcome === "created") data.push({ id, status: 201, body: "Created" });
      else data.push({ id, status: 200, body: "Updated" });
    }
    return { data, failed };
  }

  /** Sends the 207 envelope (or the broken body a fault asks for). */
  private answer(
    r: BatchRequest,
    ctx: RequestContext,
    data: DataEntry[],
    failed: number,
    total: number,
    anyFaults: boolean,
  ): void {
    const envelope: { data: DataEntry[]; error?: ProblemDetails; debug: { activityID: string } } = {
      data,
      debug: { activityID: this.state.nextActivityId() },
    };
    if (failed > 0) {
      const detail = `${failed} of ${total} records failed; see data for each record's status.`;
      envelope.error = problem(207, detail, r.path);
      envelope.error.title = "Some records failed";
      envelope.error.type = "about:blank";
    }
    const mediaType = `${negotiate(r.req.headers.accept, r.route.responseTypes)}; charset=utf-8`;
    let text = JSON.stringify(envelope);
    let status = 207;
    const broken = anyFaults ? this.state.faults.take("bad-body", ctx) : undefined;
    if (broken) {
      r.entry.fault = "bad-body";
      status = broken.status ?? 207;
      text =
        broken.body === "truncated"
          ? text.slice(0, Math.max(1, Math.floor(text.length / 2)))
          : "<html><body><h1>502 Bad Gateway</h1></body></html>";
    }
    this.out.send(r.res, status, mediaType, text);
  }
}
