// Preloaded (`node --require`) into a process whose CPU cli-start.ts measures: when the process
// exits, writes its whole CPU time (user + system, all threads, since the process started) in
// µs to the file named by BENCH_CPU_FILE. Node gives a parent no child's CPU time.
const file = process.env.BENCH_CPU_FILE;
if (file) {
  process.on("exit", () => {
    const { user, system } = process.cpuUsage();
    require("node:fs").writeFileSync(file, String(user + system));
  });
}
