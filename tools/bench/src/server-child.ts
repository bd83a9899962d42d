// Runs the reference server in its own process so its CPU is not counted as the client's.
// Started by server.ts; options arrive as JSON in argv[2]; commands arrive over IPC.
import { type MockServerOptions, startMockServer } from "@vbapi-sdk/mock-server";

const options = JSON.parse(process.argv[2] ?? "{}") as MockServerOptions;
const server = await startMockServer({ ...options, adminToken: false });

process.on("message", async (msg: { id: number; cmd: string }) => {
  const reply = (data: unknown = null) => process.send?.({ id: msg.id, data });
  switch (msg.cmd) {
    case "stats":
      return reply({
        stats: server.stats,
        cpu: process.cpuUsage(),
        rss: process.memoryUsage().rss,
      });
    case "reset":
      server.reset();
      return reply();
    case "close":
      await server.close();
      reply();
      process.disconnect();
      return;
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ id: 0, data: { url: server.url, credentials: server.credentials } });
