// The run report as a page: `vbapi report <run-dir> --html`, and report.html at the end of every
// upsert and resume. Read from the run folder alone, so a report can be written again any time.
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadReportData } from "./data.ts";
import { reportPage } from "./template.ts";

export const REPORT_FILE = "report.html";

/**
 * Writes the report of the run in `runDir` to `file` (default `<run-dir>/report.html`), through
 * a temporary file and a rename, so a reader never sees half a page. Resolves with its path, and
 * what in the journal was damaged and left out (undefined when nothing was).
 */
export async function writeHtmlReport(
  runDir: string,
  file?: string,
): Promise<{ path: string; journalDamage: string | undefined }> {
  const dir = resolve(runDir);
  const target = resolve(file ?? join(dir, REPORT_FILE));
  const data = await loadReportData(dir);
  const page = reportPage(data);
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, page);
    renameSync(tmp, target);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  return { path: target, journalDamage: data.journalDamage };
}
