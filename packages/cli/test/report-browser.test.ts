// report.html in a real browser: headless Chromium (Debian's `chromium`) driven by
// playwright-core opens the page of a real run from disk, with every request that is not a
// file: URL aborted and recorded. The page must render its totals, log no console error, ask
// for nothing, keep hostile text as text, and block what an injected element would load. The
// screenshot is kept in test-results/report.png. Without Chromium the test is skipped, saying
// so, unless VBAPI_REQUIRE_BROWSER=1 (CI), where it fails.
import { accessSync, constants, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJson } from "./helpers.ts";
import {
  API_KEY,
  CELL_VALUE,
  DATABASE,
  FILE_NAME,
  MESSAGE_ATTR,
  MESSAGE_SCRIPT,
  type ReportRun,
  reportRun,
  TOKEN,
} from "./report-run.ts";

const CHROMIUM = process.env.VBAPI_CHROMIUM ?? "/usr/bin/chromium";
const SCREENSHOT = fileURLToPath(new URL("../test-results/report.png", import.meta.url));

function browserInstalled(): boolean {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return true;
  } catch {
    if (process.env.VBAPI_REQUIRE_BROWSER === "1") return true; // and fail at launch, saying why
    process.stderr.write(
      `SKIPPED the HTML report's browser test: no Chromium at ${CHROMIUM} (apt-get install chromium, or set VBAPI_CHROMIUM; VBAPI_REQUIRE_BROWSER=1 makes this a failure)\n`,
    );
    return false;
  }
}

const withBrowser = browserInstalled();

describe.skipIf(!withBrowser)("report.html in headless Chromium", () => {
  let run: ReportRun;
  let browser: Browser;
  beforeAll(async () => {
    run = await reportRun();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await run?.server.close();
  });

  it("renders the totals from disk, logs no error, requests nothing but the file", async () => {
    // chromium.launch runs on a fresh temporary profile (user-data-dir); each test its own context.
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const requested: string[] = [];
    const outside: string[] = [];
    const problems: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning")
        problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("dialog", (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await context.route(
      (url) => url.protocol !== "file:",
      (route) => {
        outside.push(route.request().url());
        return route.abort();
      },
    );
    const url = pathToFileURL(join(run.out, "report.html")).href;
    await page.goto(url, { waitUntil: "load" });

    const summary = readJson<{ totals: Record<string, number>; requests: number }>(
      join(run.out, "summary.json"),
    );
    /** The text as the browser renders it (Playwright's innerText: what a person sees). */
    const shown = (selector: string) =>
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is tested
      page.locator(selector).innerText();
    const total = (name: string) => shown(`[data-total="${name}"]`);
    expect(await total("rows")).toBe(String(summary.totals.rows));
    expect(await total("succeeded")).toBe(
      String((summary.totals.created ?? 0) + (summary.totals.updated ?? 0)),
    );
    expect(await total("failed")).toBe(String(summary.totals.failed));
    expect(await total("invalid")).toBe(String(summary.totals.invalid));
    expect(await total("requests")).toMatch(new RegExp(`^${summary.requests} \\(`));
    expect(await shown("[data-status]")).toBe("complete");
    expect(await shown("[data-exit-code]")).toBe("exit code 1");

    // Hostile text is text: shown as it is, and no element came of it.
    const text = await shown("body");
    for (const hostile of [MESSAGE_SCRIPT, MESSAGE_ATTR, FILE_NAME, DATABASE]) {
      expect(text).toContain(hostile);
    }
    expect(await page.title()).toBe("vbapi run: tolerances, complete");
    const counts = await page.evaluate(() => ({
      scripts: document.querySelectorAll("script").length,
      images: document.querySelectorAll("img, iframe, object, embed, video, audio").length,
      styles: document.querySelectorAll("style").length,
      handlers: [...document.querySelectorAll("*")].filter((e) =>
        e.getAttributeNames().some((a) => a.startsWith("on")),
      ).length,
      // The one style sheet applied (its hash is in the CSP); the page is not hidden.
      radius: getComputedStyle(document.querySelector("section") as Element).borderTopLeftRadius,
      display: getComputedStyle(document.body).display,
      bars: document.querySelectorAll("svg[role=img] rect.ok").length,
      limited: document.querySelectorAll("svg[role=img] rect.limited").length,
    }));
    expect(counts).toMatchObject({ scripts: 0, images: 0, styles: 1, handlers: 0 });
    expect(counts.radius).toBe("10px");
    expect(counts.display).toBe("block");
    expect(counts.bars).toBeGreaterThan(0);
    expect(counts.limited).toBeGreaterThan(0);
    for (const secret of [API_KEY, TOKEN, CELL_VALUE]) expect(text).not.toContain(secret);

    mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe("PNG");

    expect(problems).toEqual([]);
    expect(outside).toEqual([]);
    expect(requested).toEqual([url]);
    await context.close();
  });

  it("its Content-Security-Policy blocks anything an element could load (nothing leaves the machine)", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const outside: string[] = [];
    await context.route(
      (url) => url.protocol !== "file:",
      (route) => {
        outside.push(route.request().url());
        return route.abort();
      },
    );
    await page.goto(pathToFileURL(join(run.out, "report.html")).href);
    // As if the page had let markup through: an image, a style sheet and a script from a server.
    const violated = await page.evaluate(
      () =>
        new Promise<string[]>((resolve) => {
          const seen: string[] = [];
          document.addEventListener("securitypolicyviolation", (e) => {
            seen.push(e.violatedDirective);
            if (seen.length === 3) resolve(seen.sort());
          });
          const img = document.createElement("img");
          img.src = "http://127.0.0.1:9/x.png";
          const link = document.createElement("link");
          link.rel = "stylesheet";
          link.href = "http://127.0.0.1:9/x.css";
          const script = document.createElement("script");
          script.src = "http://127.0.0.1:9/x.js";
          document.body.append(img, link, script);
          setTimeout(() => resolve(seen.sort()), 3000);
        }),
    );
    expect(violated).toEqual(["img-src", "script-src-elem", "style-src-elem"]);
    expect(outside).toEqual([]);
    await context.close();
  });
});
