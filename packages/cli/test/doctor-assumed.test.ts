// The doctor's ASSUMED facts against the bundled spec: each points at text in the spec that
// still calls it assumed (so the table cannot drift from the spec unnoticed), and each is
// judged confirmed / contradicted / not seen from real answers of the reference server.
import { startMockServer } from "@vbapi-sdk/mock-server";
import spec from "@vbapi-sdk/openapi";
import { describe, expect, it } from "vitest";
import { FACTS, judgeFacts, specText, stillAssumed } from "../src/doctor/assumed.ts";
import type { Answer } from "../src/doctor/types.ts";

describe("the doctor's ASSUMED facts", () => {
  it("each points at spec text that still says it is assumed", () => {
    for (const fact of FACTS) {
      expect(specText(fact.pointer), fact.id).toBeTypeOf("string");
      expect(stillAssumed(fact), `${fact.id}: ${fact.pointer} no longer says "${fact.mark}"`).toBe(
        true,
      );
    }
    expect(new Set(FACTS.map((f) => f.id)).size).toBe(FACTS.length);
  });

  it("the content type the first fact expects is the one every error response of the spec declares", () => {
    const responses = (
      spec as unknown as { components: { responses: Record<string, { content?: object }> } }
    ).components.responses;
    const errors = Object.entries(responses);
    expect(errors.length).toBeGreaterThan(3);
    for (const [name, response] of errors)
      expect(Object.keys(response.content ?? {}), name).toEqual(["application/problem+json"]);
    expect(FACTS[0]?.says).toContain("application/problem+json");
  });

  it("judges real answers of the reference server", async () => {
    const server = await startMockServer({ rateLimit: { requestsPerSecond: 1, burst: 1 } });
    try {
      const answers: Answer[] = [];
      const put = async () => {
        const started = performance.now();
        const res = await fetch(`${server.url}/tolerances-batch`, {
          method: "PUT",
          headers: {
            ...server.credentials.headers,
            "vbasoftware-database": "A",
            "content-type": "application/json",
          },
          body: "{}",
        });
        const text = await res.text();
        answers.push({
          what: "PUT /tolerances-batch",
          status: res.status,
          contentType: res.headers.get("content-type") ?? "",
          json: JSON.parse(text),
          date: res.headers.get("date"),
          retryAfter: res.headers.get("retry-after"),
          ms: performance.now() - started,
        });
      };
      expect(judgeFacts(answers).every((f) => f.verdict === "not seen")).toBe(true);
      await put(); // 400: the body is not an array
      await put(); // 429: the bucket of 1 is empty
      expect(answers.map((a) => a.status)).toEqual([400, 429]);
      const verdicts = Object.fromEntries(judgeFacts(answers).map((f) => [f.id, f.verdict]));
      expect(verdicts).toMatchObject({
        "error-content-type": "confirmed",
        "problem-details-body": "confirmed",
        "retry-after-form": "confirmed",
        "login-401-names-credential": "not seen",
      });
      // A server that answers errors as text/plain, without problem details, contradicts both.
      const plain: Answer = {
        ...(answers[0] as Answer),
        contentType: "text/plain",
        json: { error: { status: 400 } },
      };
      const contradicted = Object.fromEntries(judgeFacts([plain]).map((f) => [f.id, f]));
      expect(contradicted["error-content-type"]).toMatchObject({
        verdict: "contradicted",
        saw: "PUT /tolerances-batch answered 400 as text/plain",
      });
      expect(contradicted["problem-details-body"]?.verdict).toBe("contradicted");
      const noRetryAfter: Answer = { ...(answers[1] as Answer), retryAfter: null };
      expect(judgeFacts([noRetryAfter]).find((f) => f.id === "retry-after-form")).toMatchObject({
        verdict: "contradicted",
        saw: "a 429 without Retry-After",
      });
    } finally {
      await server.close();
    }
  });
});
