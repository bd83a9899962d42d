// A setup file (vitest.config.ts): runs before each test file, in the worker that runs it.
// The workers are shared by many files (isolate: false), so this forgets every module the
// previous file evaluated: the test helpers (helpers.ts's temp folders and their afterAll,
// e2e-setup.ts's and telemetry-setup.ts's servers) and ../src are evaluated again, once per
// file, as with isolation. What Node imports itself (the packages in node_modules, and the
// workspace packages' dist, external by vitest.config.ts) stays loaded: that is the time
// isolate: false saves. Among it the reference server's compiled routes, made once per worker.
import { vi } from "vitest";

vi.resetModules();
