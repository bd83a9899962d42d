// Preloaded (`--require`) into the bin by unreachable-stop.ts: writes the process's own clock at
// its exit to the file VBAPI_TEST_EXIT_STAMP names, so that "the process ended soon after it
// wrote summary.json" is measured by the process, not by a test worker busy beside it.
const file = process.env.VBAPI_TEST_EXIT_STAMP;
if (file) process.on("exit", () => require("node:fs").writeFileSync(file, String(Date.now())));
