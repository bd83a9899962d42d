// What a run shows: a live bar on a TTY (cli-progress), a line every few seconds otherwise, or
// NDJSON events on stdout with --json. Human output goes to stderr, so stdout stays clean. The
// bar, the lines, the events and the end-of-run report use the same words: succeeded, failed
// (refused, or never answered), invalid (never sent). Messages go out through terminalText,
// events through safeJson: text from the server or a file cannot move the cursor or retitle the
// terminal. cli-progress is loaded when a bar is shown (on a TTY) and not otherwise.
import { createRequire } from "node:module";
import type * as CliProgress from "cli-progress";
import { count, fmt } from "./count.ts";
import { io } from "./io.ts";
import { type LogLevel, log, logFormat, textPrefix } from "./log-format.ts";
import { safeJson, terminalText } from "./safe-text.ts";

export interface Counters {
  /** Rows taken from the file (skipped ones included). */
  read: number;
  /** Rows skipped because an earlier session finished them (resume). */
  skipped: number;
  /** Rows that went to the server at least once (final or in flight). */
  sent: number;
  succeeded: number;
  /** Rows the server (or the transport) failed. */
  failed: number;
  /** Rows that did not convert or validate (never sent). */
  invalid: number;
  inFlight: number;
  requests: number;
  retries: number;
  bytesRead: number;
  bytesTotal: number | undefined;
  elapsedMs: number;
}

export type DisplayMode = "bar" | "lines" | "json" | "quiet";

function rate(c: Counters): number {
  const done = c.succeeded + c.failed + c.invalid;
  return c.elapsedMs > 0 ? Math.round((done / c.elapsedMs) * 1000) : 0;
}

/**
 * Share of the file done, when its size is known: rows done over the rows the file holds,
 * estimated from the bytes read so far (the reader runs ahead of the rows sent).
 */
function fraction(c: Counters): number | undefined {
  if (!c.bytesTotal || c.bytesRead === 0 || c.read === 0) return undefined;
  const estimatedRows = (c.read * c.bytesTotal) / Math.min(c.bytesRead, c.bytesTotal);
  const done = c.succeeded + c.failed + c.invalid + c.skipped;
  return Math.min(1, done / estimatedRows);
}

function eta(c: Counters): number | undefined {
  const f = fraction(c);
  if (f === undefined || f === 0) return undefined;
  return Math.round(((c.elapsedMs / f) * (1 - f)) / 1000);
}

function duration(seconds: number | undefined): string {
  if (seconds === undefined) return "-";
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  return m < 60
    ? `${m}m${String(seconds % 60).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export function progressLine(c: Counters): string {
  const parts = [
    `${count(c.read, "row")} read`,
    ...(c.skipped > 0 ? [`${fmt(c.skipped)} already done`] : []),
    `${fmt(c.sent)} sent`,
    `${fmt(c.succeeded)} succeeded`,
    `${fmt(c.failed)} failed`,
    `${fmt(c.invalid)} invalid`,
    `${fmt(rate(c))} rows/s`,
  ];
  const e = eta(c);
  if (e !== undefined) parts.push(`ETA ${duration(e)}`);
  return parts.join(", ");
}

export class Display {
  private bar: CliProgress.SingleBar | undefined;
  private lastLine = 0;
  private lastEvent = 0;
  private stopped = false;

  constructor(
    readonly mode: DisplayMode,
    private readonly lineIntervalMs = 5000,
    private readonly eventIntervalMs = 1000,
  ) {}

  /** A JSON event on stdout (--json only). */
  event(type: string, fields: Record<string, unknown>): void {
    if (this.mode !== "json") return;
    io().stdout.write(`${safeJson({ event: type, time: new Date().toISOString(), ...fields })}\n`);
  }

  /**
   * A log line: for the person at the terminal (stderr), kept clear of the bar, prefixed
   * `warning: ` or `error: ` by level; with --log-format json, a JSON line whatever the mode.
   */
  log(message: string, level: LogLevel = "info"): void {
    if (logFormat() === "json") {
      log(level, message);
      return;
    }
    if (this.mode === "json" || this.mode === "quiet") return;
    const line = `${terminalText(textPrefix(level) + message)}\n`;
    if (this.bar && !this.stopped) {
      io().stderr.write("\r\x1b[2K");
      io().stderr.write(line);
      this.bar.render();
    } else io().stderr.write(line);
  }

  start(title: string, c: Counters): void {
    if (this.mode === "bar") {
      const known = c.bytesTotal !== undefined && c.bytesTotal > 0;
      const cliProgress = createRequire(import.meta.url)("cli-progress") as typeof CliProgress;
      this.bar = new cliProgress.SingleBar(
        {
          format: `${terminalText(title)} ${known ? "{bar} {percentage}% | " : ""}{counts}`,
          hideCursor: true,
          stream: io().stderr,
          barsize: 24,
          fps: 10,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(known ? 1000 : 1, 0, this.payload(c));
    }
  }

  private payload(c: Counters): Record<string, string> {
    return { counts: progressLine(c) };
  }

  update(c: Counters, force = false): void {
    const now = Date.now();
    if (this.mode === "bar" && this.bar && !this.stopped) {
      this.bar.update(Math.round((fraction(c) ?? 0) * 1000), this.payload(c));
    } else if (this.mode === "lines") {
      if (force || now - this.lastLine >= this.lineIntervalMs) {
        this.lastLine = now;
        io().stderr.write(`${progressLine(c)}\n`);
      }
    } else if (this.mode === "json") {
      if (force || now - this.lastEvent >= this.eventIntervalMs) {
        this.lastEvent = now;
        this.event("progress", { ...c, rowsPerSecond: rate(c), etaSeconds: eta(c) ?? null });
      }
    }
  }

  stop(c: Counters | undefined): void {
    if (this.stopped) return;
    if (this.bar) {
      if (c) this.bar.update(Math.round((fraction(c) ?? 0) * 1000), this.payload(c));
      this.bar.stop();
    }
    this.stopped = true;
  }
}
