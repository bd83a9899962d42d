// x-codeSamples: every operation has curl, every batch upsert the SDK one-liner. The curl
// samples are run against a server of the test's own; the SDK samples name functions the domain
// packages export (the consumer test also compiles them against the packed packages).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { addCodeSamples } from "../scripts/code-samples.mjs";

const pkg = resolve(import.meta.dirname, "..");
const repo = resolve(pkg, "../..");
const spec = JSON.parse(readFileSync(join(pkg, "dist/openapi.json"), "utf8"));
type Sample = { lang: string; label: string; source: string };
type Op = { operationId: string; "x-codeSamples": Sample[] };
const operations: [string, string, Op][] = Object.entries(
  spec.paths as Record<string, Record<string, Op>>,
).flatMap(([path, item]) =>
  Object.entries(item).map(([m, op]) => [m, path, op] as [string, string, Op]),
);
const batch = operations.filter(([, path]) => path.endsWith("-batch"));

describe("x-codeSamples in the bundle", () => {
  it("every operation shows curl, every batch operation the SDK one-liner first", () => {
    for (const [, , op] of operations) expect(op["x-codeSamples"].at(-1)?.label).toBe("curl");
    expect(batch).toHaveLength(5);
    for (const [, , op] of batch) {
      expect(op["x-codeSamples"].map((s) => s.label)).toEqual([
        expect.stringMatching(/^@vbapi-sdk\//),
        "curl",
      ]);
    }
  });

  it("calls the function the domain package exports, with the operation's example records", () => {
    const calls = batch.map(([, , op]) => {
      const ts = op["x-codeSamples"][0] as Sample;
      const m = /import \{ createVbapiClient, (\w+) \} from "(@vbapi-sdk\/\w+)";/.exec(ts.source);
      expect(m, op.operationId).not.toBeNull();
      const [, fn, from] = m as RegExpExecArray;
      const src = readFileSync(
        join(repo, "packages", from.split("/")[1] as string, "src/generated/index.ts"),
        "utf8",
      );
      expect(src, `${from} exports ${fn}`).toMatch(new RegExp(`export (const|function) ${fn}\\b`));
      expect(ts.source).toContain(`await ${fn}(client, `);
      return `${from} ${fn}`;
    });
    expect(calls.sort()).toEqual([
      "@vbapi-sdk/billing upsertArmorCodeExCodes",
      "@vbapi-sdk/billing upsertClaimPromptPays",
      "@vbapi-sdk/billing upsertTolerances",
      "@vbapi-sdk/credentialing upsertProviderCredServices",
      "@vbapi-sdk/events upsertEvents",
    ]);
    const cred = batch.find(([, p]) => p.includes("{providerCredKey}"))?.[2];
    expect(cred?.["x-codeSamples"][0]?.source).toContain(
      "upsertProviderCredServices(client, 5021, [",
    );
  });

  it("shows no secret: credentials come from environment variables", () => {
    for (const [, , op] of batch) {
      const curl = op["x-codeSamples"].find((s) => s.label === "curl")?.source ?? "";
      expect(curl).toContain('-H "x-api-key: $VBAPI_API_KEY"');
      expect(curl).toContain('-H "Authorization: Bearer $VBAPI_TOKEN"');
      expect(curl).toContain('-H "vbasoftware-database: $VBAPI_DATABASE"');
    }
  });

  it("each curl sample sends the method, path, headers and example body the spec describes", async () => {
    const seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] =
      [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(207, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const [method, path, op] of batch) {
        const curl = op["x-codeSamples"][1]?.source ?? "";
        const script = curl
          .replace(spec.servers[0].url, base)
          .replace(/^curl /, "curl -sS --fail ");
        await promisify(execFile)("bash", ["-c", script], {
          env: {
            PATH: process.env.PATH,
            VBAPI_API_KEY: "k-123",
            VBAPI_TOKEN: "t-456",
            VBAPI_DATABASE: "DB1",
          },
          timeout: 10_000,
        });
        const got = seen.pop();
        expect(got?.method).toBe(method.toUpperCase());
        expect(got?.url).toBe(`${path.replace("{providerCredKey}", "5021")}`);
        expect(got?.headers).toMatchObject({
          "x-api-key": "k-123",
          authorization: "Bearer t-456",
          "vbasoftware-database": "DB1",
          "content-type": "application/json",
        });
        expect(got?.headers["user-agent"]).toBeTruthy();
        const ref = spec.paths[path][method].requestBody.content["application/json"].examples;
        const name = (Object.values(ref)[0] as { $ref: string }).$ref.split("/").pop() as string;
        expect(JSON.parse(got?.body ?? ""), op.operationId).toEqual(
          spec.components.examples[name].value,
        );
      }
    } finally {
      server.close();
    }
  });
});

describe("addCodeSamples", () => {
  it("gives an operation that is not a batch upsert curl only, and says why", () => {
    const doc = structuredClone(spec);
    doc.paths["/user-authentication"] = {
      post: {
        operationId: "login",
        security: [{ apiKeyAuth: [] }],
        requestBody: {
          content: {
            "application/json": { example: { userName: "JMARTIN", password: "<password>" } },
          },
        },
        responses: { "200": { description: "ok" } },
      },
    };
    const notes = addCodeSamples(doc);
    expect(notes).toEqual([
      "POST /user-authentication: curl only (not a batch upsert: the SDK has no one-liner for it)",
    ]);
    const samples = doc.paths["/user-authentication"].post["x-codeSamples"];
    expect(samples.map((s: Sample) => s.label)).toEqual(["curl"]);
    expect(samples[0].source).toContain('-H "x-api-key: $VBAPI_API_KEY"');
    expect(samples[0].source).not.toContain("Authorization");
    expect(samples[0].source).toContain('"userName": "JMARTIN"');
  });

  it("takes the package from x-vbapi-package and fails the build for a batch operation without one", () => {
    const doc = structuredClone(spec);
    doc.components.schemas.Widget = { type: "object", "x-vbapi-plural": "Widgetry" };
    doc.paths["/widgets-batch"] = structuredClone(doc.paths["/tolerances-batch"]);
    const put = doc.paths["/widgets-batch"].put;
    put.operationId = "updateBatchWidget";
    put.requestBody.content["application/json"].schema.items.$ref = "#/components/schemas/Widget";
    put["x-vbapi-package"] = "pharmacy";
    addCodeSamples(doc);
    const [ts] = put["x-codeSamples"];
    expect(ts.label).toBe("@vbapi-sdk/pharmacy");
    expect(ts.source).toContain(
      'import { createVbapiClient, upsertWidgetry } from "@vbapi-sdk/pharmacy";',
    );
    delete put["x-vbapi-package"];
    expect(() => addCodeSamples(doc)).toThrow(
      "code samples: PUT /widgets-batch upserts Widget, but has no x-vbapi-package naming the @vbapi-sdk package that exports upsertWidgetry",
    );
  });
});
