// The `databases` option: a batch request or a login naming a database the server does not
// have is refused 401 (the mock's choice: VBA does not publish its answer), after the
// credentials and before anything is read or stored; without the option every database exists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startMockServer } from "../src/index.ts";
import { put } from "./helpers.ts";

const user = { username: "ann", password: "pw-ann-1", clientId: "c", clientCode: "C" };
let server: MockServer;
let login: MockServer;

beforeAll(async () => {
  server = await startMockServer({ rateLimit: false, databases: ["testdb", "other"] });
  login = await startMockServer({
    rateLimit: false,
    users: [user],
    databases: ["testdb"],
    loginRateLimit: false,
  });
});
afterAll(async () => {
  await server.close();
  await login.close();
});

const record = [{ tolerance_Key: 1, tolerance1: 1 }];

describe("databases option", () => {
  it("stores into a database that exists", async () => {
    expect((await put(server, "/tolerances-batch", record)).status).toBe(207);
    expect(
      (await put(server, "/tolerances-batch", record, { "vbasoftware-database": "other" })).status,
    ).toBe(207);
  });

  it("refuses another database 401 with problem details that do not repeat its name, storing nothing", async () => {
    const r = await put(server, "/tolerances-batch", record, {
      "vbasoftware-database": "NoSuchDb",
    });
    expect(r.status).toBe(401);
    expect(r.contentType).toBe("application/problem+json");
    expect(r.json).toMatchObject({
      status: 401,
      detail: "The database named in vbasoftware-database does not exist.",
    });
    expect(r.text).not.toContain("NoSuch");
    expect(server.store.list("NoSuchDb", "Tolerance")).toEqual([]);
  });

  it("checks the credentials first, and leaves a missing header to its 400", async () => {
    const wrongKey = await put(server, "/tolerances-batch", record, {
      "vbasoftware-database": "nope",
      "x-api-key": "bad",
    });
    expect(wrongKey.json.detail).toContain("x-api-key");
    const missing = await put(server, "/tolerances-batch", record, {
      "vbasoftware-database": undefined,
    });
    expect(missing.status).toBe(400);
  });

  it("refuses a login to a database that does not exist, counting a failed login", async () => {
    const attempt = (database: string) =>
      fetch(`${login.url}/user-authentication`, {
        method: "POST",
        headers: {
          "x-api-key": login.credentials.apiKey,
          "user-agent": "t",
          authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`,
          "vbasoftware-client-id": user.clientId,
          "vbasoftware-client-code": user.clientCode,
          "vbasoftware-database": database,
        },
      });
    expect((await attempt("testdb")).status).toBe(200);
    const refused = await attempt("missing");
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { detail: string }).detail).toBe(
      "The database named in vbasoftware-database does not exist.",
    );
    expect(login.stats.logins).toMatchObject({ succeeded: 1, failed: 1 });
  });

  it("rejects an empty or non-string database, naming the option", async () => {
    await expect(startMockServer({ databases: [""] })).rejects.toThrow(
      "databases must be an array of non-empty strings",
    );
    await expect(startMockServer({ databases: "x" as unknown as string[] })).rejects.toThrow(
      "databases",
    );
  });
});
