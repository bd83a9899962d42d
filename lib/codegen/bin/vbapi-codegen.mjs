#!/usr/bin/env node
// The `vbapi-codegen` command: runs src/cli.ts through tsx (a dependency of this package, so it
// resolves from here, whichever package calls the command).
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
