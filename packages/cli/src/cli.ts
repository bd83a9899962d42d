#!/usr/bin/env node
// The `vbapi` bin.
import { main } from "./commands.js";

const code = await main(process.argv.slice(2));
process.exit(code);
