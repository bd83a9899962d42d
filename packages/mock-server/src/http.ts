// HTTP plumbing: reading a body with a size limit, content negotiation, and writing answers
// (counted by status) or refusing a body without buffering it.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { ProblemDetails } from "./problem.ts";

/** The body, or why it could not be read. */
export type BodyResult =
  | { ok: true; bytes: Buffer }
  | { ok: false; reason: "too-large" | "aborted" };

/** Reads the body up to `limit` bytes; stops reading (without buffering more) past it. */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onError);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish({ ok: false, reason: "too-large" });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () =>
      finish({
        ok: true,
        bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size),
      });
    const onError = () => finish({ ok: false, reason: "aborted" });
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onError);
  });
}

/** Picks the 207 media type: text/plain unless application/json or text/json is asked for. */
export function negotiate(accept: string | undefined, offered: ReadonlySet<string>): string {
  if (accept) {
    if (accept.includes("application/json") && offered.has("application/json"))
      return "application/json";
    if (accept.includes("text/json") && offered.has("text/json")) return "text/json";
  }
  if (offered.has("text/plain") || offered.size === 0) return "text/plain";
  return offered.values().next().value as string;
}

/** Whether a request Content-Type is one the operation accepts (wildcards like `application/*+json` allowed). */
export function acceptsMediaType(contentType: string, accepted: readonly string[]): boolean {
  const base = (contentType.split(";")[0] as string).trim().toLowerCase();
  for (const type of accepted) {
    if (type === base) return true;
    const star = type.indexOf("*");
    if (star >= 0) {
      const prefix = type.slice(0, star);
      const suffix = type.slice(star + 1);
      if (base.length > type.length - 1 && base.startsWith(prefix) && base.endsWith(suffix))
        return true;
    }
  }
  return false;
}

/** Writes answers and counts them; one per server. */
export class Responder {
  /** Answers that must not leave before a time (`performance.now()` ms): simulated latency. */
  private readonly notBefore = new WeakMap<ServerResponse, number>();
  /** Answers waiting for their time; a second answer to the same request is ignored. */
  private readonly waiting = new WeakSet<ServerResponse>();

  constructor(
    private readonly hooks: {
      /** Called once per answer written. */
      onStatus(status: number): void;
      /** Called once per connection reset by a fault. */
      onReset(): void;
      /** How much of a refused body is drained before the connection is dropped. */
      discardCap: number;
    },
  ) {}

  /** Holds every answer to this request back until `time` (a `performance.now()` value). */
  holdUntil(res: ServerResponse, time: number): void {
    this.notBefore.set(res, time);
  }

  /** Sends one answer (ignored when one was already sent or the socket is gone). */
  send(
    res: ServerResponse,
    status: number,
    contentType: string,
    body: string,
    extra?: OutgoingHttpHeaders,
  ): void {
    if (res.headersSent || res.destroyed || this.waiting.has(res)) return;
    const wait = (this.notBefore.get(res) ?? 0) - performance.now();
    if (wait >= 1) {
      this.waiting.add(res);
      setTimeout(() => {
        this.waiting.delete(res);
        this.send(res, status, contentType, body, extra);
      }, wait);
      return;
    }
    this.hooks.onStatus(status);
    const headers: OutgoingHttpHeaders = {
      "content-type": contentType,
      "content-length": Buffer.byteLength(body),
    };
    if (extra) Object.assign(headers, extra);
    res.writeHead(status, headers);
    res.end(body);
  }

  /** Sends problem details. */
  problem(res: ServerResponse, p: ProblemDetails, extra?: OutgoingHttpHeaders): void {
    this.send(res, p.status, "application/problem+json", JSON.stringify(p), extra);
  }

  /**
   * Answers (413) for a body we will not buffer. The rest of the body is read and thrown away
   * (so that the client, still sending, gets to read the answer) up to `discardCap` bytes;
   * past that, or when the body is announced larger than that, the connection is dropped.
   */
  rejectBody(req: IncomingMessage, res: ServerResponse, p: ProblemDetails): void {
    const cap = this.hooks.discardCap;
    const announced = Number(req.headers["content-length"] ?? 0);
    if (announced > cap) {
      this.problem(res, p, { connection: "close" });
      return;
    }
    this.problem(res, p);
    let discarded = 0;
    req.on("data", (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > cap) req.socket.destroy();
    });
    req.resume();
  }

  /** Resets the connection (RST where the platform allows it) instead of answering. */
  resetSocket(req: IncomingMessage): void {
    this.hooks.onReset();
    const socket = req.socket as IncomingMessage["socket"] & { resetAndDestroy?: () => void };
    if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
    else socket.destroy();
  }
}
