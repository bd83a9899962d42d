#!/usr/bin/env node
// The `vbapi` bin.
import { main } from "./program.ts";

main(process.argv.slice(2)).then((code) => process.exit(code));
