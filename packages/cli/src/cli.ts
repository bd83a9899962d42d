#!/usr/bin/env node
// The `vbapi` bin.
import { binMain } from "./program.ts";

binMain(process.argv.slice(2)).then((code) => process.exit(code));
