// Opening an input as a stream of rows: a file, a pipe or stdin; CSV, NDJSON or a JSON array;
// any of them gzipped. Nothing is read whole; bytes are counted (for the ETA), optionally
// hashed, and checked for invalid UTF-8 on the way to the parser.
import { createHash, type Hash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { io } from "../io.ts";
import { detectDelimiter, formatFromContent, formatFromName, isGzip } from "./detect.ts";
import { csvRows, jsonRows, type ParsedRows } from "./parsers.ts";
import { checkUtf8, peek } from "./streams.ts";
import { InputError, type OpenedInput, type OpenInputOptions } from "./types.ts";

/** The size of a regular file; undefined for a pipe. Throws InputError for anything else. */
function sizeOf(path: string): number | undefined {
  try {
    const st = statSync(path);
    // A regular file, or a pipe (a FIFO, `<(gunzip -c f)`): only a file has a size.
    if (st.isFile()) return st.size;
    if (!st.isFIFO() && !st.isCharacterDevice()) throw new InputError(`${path} is not a file`);
    return undefined;
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
}

/** The decompressed bytes; a stream that is not gzip after all is an InputError. */
function gunzipped(
  compressed: AsyncIterable<Buffer>,
  readFailed: () => boolean,
): AsyncIterable<Buffer> {
  const gunzip = createGunzip();
  pipeline(Readable.from(compressed, { objectMode: false }), gunzip, () => {});
  return (async function* () {
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (error) {
      if (error instanceof InputError || readFailed()) throw error;
      throw new InputError(
        `not a valid gzip file (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  })();
}

/** Opens an input for reading. Throws InputError when it cannot be opened or recognized. */
export async function openInput(options: OpenInputOptions): Promise<OpenedInput> {
  const stdin = options.path === "-";
  const size = stdin ? undefined : sizeOf(options.path);
  const raw: Readable = stdin
    ? io().stdin
    : createReadStream(options.path, { highWaterMark: 1 << 16 });
  const hash: Hash | undefined = options.hashWhileReading ? createHash("sha256") : undefined;
  let bytes = 0;
  let digest: string | undefined;
  let rawError: unknown;
  async function* counted(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of raw) {
        bytes += (chunk as Buffer).length;
        hash?.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    } catch (error) {
      rawError = error;
      throw new InputError(
        `reading ${stdin ? "stdin" : options.path} failed: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    if (hash) digest = hash.digest("hex");
  }
  const named = stdin
    ? { format: undefined, gzip: false, tab: false }
    : formatFromName(options.path);
  const rawPeek = await peek(counted());
  const gzip = named.gzip || isGzip(rawPeek.first);
  const decoded = gzip ? gunzipped(rawPeek.all, () => Boolean(rawError)) : rawPeek.all;
  const textPeek = await peek(decoded);
  const head = textPeek.first.toString("utf8", 0, Math.min(textPeek.first.length, 64 * 1024));
  const format = options.format ?? named.format ?? formatFromContent(head);
  let delimiter: string | undefined;
  if (format === "csv") {
    delimiter =
      options.delimiter ?? (named.tab ? "\t" : detectDelimiter(head.replace(/^\uFEFF/, "")));
  }

  const utf8 = { badUtf8: false };
  const source = Readable.from(checkUtf8(textPeek.all, utf8), { objectMode: false });
  const parsed: ParsedRows =
    format === "csv"
      ? await csvRows(source, delimiter, utf8)
      : await jsonRows(source, format, utf8);

  return {
    format,
    gzip,
    delimiter,
    header: parsed.header,
    size,
    bytesRead: () => bytes,
    digest: () => digest,
    rows: parsed.rows,
    close() {
      parsed.parser.destroy();
      if (!stdin) raw.destroy();
    },
  };
}
