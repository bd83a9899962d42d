// Reads the validator runtime (runtime/validation-runtime.ts) as the text that goes into the
// generated validators.ts: everything after the marker line, with `export` kept on types and
// dropped from functions and constants (they are private to the generated file).
import { readFile } from "node:fs/promises";

export const RUNTIME_FILE = new URL("./runtime/validation-runtime.ts", import.meta.url);
const MARKER = "// codegen: copy from here\n";

export function runtimeSource(moduleText: string): string {
  const at = moduleText.indexOf(MARKER);
  if (at < 0) throw new Error(`codegen: the validator runtime has no "${MARKER.trim()}" line`);
  const body = moduleText.slice(at + MARKER.length);
  if (/^\s*import\s/m.test(body))
    throw new Error("codegen: the validator runtime must not import anything (it is inlined)");
  return body.replace(/^export (function|const) /gm, "$1 ").trimEnd();
}

export async function readValidationRuntime(): Promise<string> {
  return runtimeSource(await readFile(RUNTIME_FILE, "utf8"));
}
