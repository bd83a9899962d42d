// The Postman collection: every operation, the auth headers and the database as collection
// variables without values, and the spec's examples as request bodies.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { toPostman, VARIABLES } from "../scripts/postman.mjs";

const pkg = resolve(import.meta.dirname, "..");
const read = (f: string) => JSON.parse(readFileSync(join(pkg, "dist", f), "utf8"));
const collection = read("vbapi.postman_collection.json");
const spec30 = read("openapi.3.0.json");

interface Header {
  key: string;
  value: string;
}
interface Item {
  name: string;
  item?: Item[];
  request: {
    method: string;
    url: { path: string[]; host: string[]; variable: { key: string; value: string }[] };
    header: Header[];
    body?: { mode: string; raw: string };
    auth?: { type: string } | null;
  };
}
const requestsOf = (items: Item[]): Item[] =>
  items.flatMap((i) => (Array.isArray(i.item) ? requestsOf(i.item) : [i]));
const requests = requestsOf(collection.item);
const header = (i: Item, key: string) =>
  i.request.header.find((h) => h.key.toLowerCase() === key.toLowerCase())?.value;
const pathOf = (i: Item) =>
  `/${i.request.url.path.map((s) => s.replace(/^:(.+)$/, "{$1}")).join("/")}`;

describe("vbapi.postman_collection.json", () => {
  it("is a v2.1 collection with one request per operation of the spec", () => {
    expect(collection.info.schema).toBe(
      "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
    );
    const ops = Object.entries(spec30.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(requests.map((i) => `${i.request.method} ${pathOf(i)}`).sort()).toEqual(ops.sort());
  });

  it("takes the credentials and the database from collection variables that hold no value", () => {
    const vars = Object.fromEntries(
      collection.variable.map((v: { key: string; value: string }) => [v.key, v.value]),
    );
    expect(vars).toEqual({
      baseUrl: spec30.servers[0].url,
      apiKey: "",
      token: "",
      database: "",
      username: "",
      password: "",
      clientId: "",
      clientCode: "",
    });
    expect(collection.auth.type).toBe("apikey");
    const apikey = Object.fromEntries(
      collection.auth.apikey.map((e: { key: string; value: string }) => [e.key, e.value]),
    );
    expect(apikey).toEqual({ key: "x-api-key", value: "{{apiKey}}", in: "header" });
    for (const i of requests) {
      const op = spec30.paths[pathOf(i)][i.request.method.toLowerCase()];
      const security: Record<string, unknown>[] = op.security ?? spec30.security;
      const params: { $ref?: string; name?: string }[] = op.parameters ?? [];
      expect(i.request.url.host).toEqual(["{{baseUrl}}"]);
      if (security.some((s) => "bearerAuth" in s))
        expect(header(i, "Authorization"), i.name).toBe("Bearer {{token}}");
      if (params.some((p) => (p.$ref ?? p.name ?? "").endsWith("vbasoftware-database")))
        expect(header(i, "vbasoftware-database"), i.name).toBe("{{database}}");
      if (security.some((s) => "apiKeyAuth" in s && !("basicAuth" in s)))
        expect(i.request.auth ?? null, i.name).toBeNull(); // inherits the collection's API key
    }
    // the batch operations need all three
    const batch = requests.filter((i) => pathOf(i).endsWith("-batch"));
    expect(batch).toHaveLength(5);
    for (const i of batch) {
      expect(header(i, "Authorization"), i.name).toBe("Bearer {{token}}");
      expect(header(i, "vbasoftware-database"), i.name).toBe("{{database}}");
    }
  });

  it("sends each operation's request example as the body", () => {
    let checked = 0;
    for (const i of requests) {
      const op = spec30.paths[pathOf(i)][i.request.method.toLowerCase()];
      const media = op.requestBody?.content?.["application/json"];
      if (!media) continue;
      const first = media.example ?? Object.values(media.examples ?? {})[0];
      const example = first?.$ref
        ? spec30.components.examples[first.$ref.split("/").pop()].value
        : (first?.value ?? first);
      if (example === undefined) continue;
      expect(i.request.body?.mode).toBe("raw");
      expect(JSON.parse(i.request.body?.raw ?? "null"), i.name).toEqual(example);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it("fills path variables from the spec's parameter examples", () => {
    const cred = requests.find((i) => pathOf(i).includes("{providerCredKey}"));
    expect(cred?.request.url.variable).toEqual([
      expect.objectContaining({ key: "providerCredKey", value: "5021" }),
    ]);
  });
});

describe("toPostman", () => {
  const withLogin = () => {
    const doc = structuredClone(spec30);
    doc.paths["/user-authentication"] = {
      post: {
        operationId: "login",
        summary: "Log in",
        security: [{ apiKeyAuth: [] }],
        requestBody: {
          content: { "application/json": { example: { userName: "u", password: "p" } } },
        },
        responses: { "200": { description: "ok" } },
      },
    };
    return doc;
  };

  it("logs in with HTTP Basic from variables, and still sends the API key", () => {
    const login = requests.find((i) => pathOf(i) === "/user-authentication");
    expect(login).toBeDefined();
    const auth = (
      login as Item & {
        request: { auth: { type: string; basic: { key: string; value: string }[] } };
      }
    ).request.auth;
    expect(auth.type).toBe("basic");
    expect(Object.fromEntries(auth.basic.map((e) => [e.key, e.value]))).toEqual({
      username: "{{username}}",
      password: "{{password}}",
    });
    expect(header(login as Item, "x-api-key")).toBe("{{apiKey}}");
    expect(header(login as Item, "vbasoftware-client-id")).toBe("{{clientId}}");
    expect(header(login as Item, "vbasoftware-client-code")).toBe("{{clientCode}}");
    expect(JSON.stringify(login)).not.toMatch(/"password":\s*"[^{]/);
  });

  it("adds the bearer header only where the operation needs it", async () => {
    const c = await toPostman(withLogin());
    const login = requestsOf(c.item).find(
      (i) => i.request.url.path.join("/") === "user-authentication",
    );
    expect(login).toBeDefined();
    expect(header(login as Item, "Authorization")).toBeUndefined();
    expect(Object.keys(VARIABLES)).toEqual([
      "apiKey",
      "token",
      "database",
      "username",
      "password",
      "clientId",
      "clientCode",
    ]);
  });

  it("refuses a security scheme it cannot express, naming the operation", async () => {
    const doc = withLogin();
    doc.components.securitySchemes.oauth = {
      type: "oauth2",
      flows: { clientCredentials: { tokenUrl: "https://x/token", scopes: {} } },
    };
    doc.paths["/user-authentication"].post.security = [{ oauth: [] }];
    await expect(toPostman(doc)).rejects.toThrow(
      "postman: POST /user-authentication: security scheme oauth (oauth2) is not supported",
    );
  });
});
