import { events } from "@vbapi-sdk/tool-demo/sample-data.ts";
import { benchClient, startServer } from "../src/server.ts";

const server = await startServer({ rateLimit: false });
const client = benchClient(server.url);
const records = [...events(1, 11, 1_000_000)];
for (let i = 0; i < 500; i++) await client.upsertBatch("Event", records);
const { Session } = await import("node:inspector/promises");
const s = new Session();
s.connect();
await s.post("Profiler.enable");
await s.post("Profiler.setSamplingInterval", { interval: 100 });
await s.post("Profiler.start");
const c0 = process.cpuUsage();
for (let i = 0; i < 3000; i++) await client.upsertBatch("Event", records);
const c = process.cpuUsage(c0);
console.log("sdk cpu/req us", (c.user + c.system) / 3000);
const { profile } = await s.post("Profiler.stop");
const fs = await import("node:fs");
fs.writeFileSync("/tmp/one.cpuprofile", JSON.stringify(profile));
const c1 = process.cpuUsage();
for (let i = 0; i < 3000; i++) {
  const r = await fetch(server.url + "/events-batch", {
    method: "PUT",
    headers: server.headers,
    body: JSON.stringify(records),
  });
  await r.json();
}
const c2 = process.cpuUsage(c1);
console.log("fetch cpu/req us", (c2.user + c2.system) / 3000);
await server.close();
