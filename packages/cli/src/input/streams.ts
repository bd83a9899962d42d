// Byte and row stream plumbing for reading inputs: peeking at the first chunk, draining a
// parser without losing rows before its error, hashing a file, telling files from pipes.
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";

/** Takes the first chunk off a byte stream and hands back a stream with it put back. */
export async function peek(
  source: AsyncIterable<Buffer>,
): Promise<{ first: Buffer; all: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const head = await it.next();
  const first = head.done ? Buffer.alloc(0) : head.value;
  async function* all(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { first, all: all() };
}

/** True for a regular file (which can be hashed up front and read again on resume). */
export function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Iterates a parser's output without losing what it produced before an error (an async
 * iterator drops a stream's buffered rows when the stream fails): rows are queued from 'data'
 * events, with backpressure (pause above 512 queued rows), and the error comes after them.
 */
export async function* rowsOf<T>(stream: NodeJS.ReadableStream): AsyncGenerator<T> {
  const queue: T[] = [];
  let head = 0;
  let error: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  stream.on("data", (row: T) => {
    queue.push(row);
    if (queue.length - head >= 512) stream.pause();
    notify();
  });
  stream.on("error", (e: unknown) => {
    error ??= e;
    notify();
  });
  stream.on("end", () => {
    ended = true;
    notify();
  });
  stream.on("close", () => {
    ended = true;
    notify();
  });
  for (;;) {
    if (head < queue.length) {
      const row = queue[head] as T;
      queue[head++] = undefined as T;
      if (head > 1024 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      if (queue.length - head < 128 && stream.isPaused()) stream.resume();
      yield row;
      continue;
    }
    if (error !== undefined) throw error;
    if (ended) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
}

/** SHA-256 and size of a file, read as a stream. */
export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest("hex") };
}

/**
 * Passes the bytes through unchanged, setting `state.badUtf8` once they are not valid UTF-8 (the
 * parsers decode such bytes as U+FFFD; the flag says whether that has happened yet).
 */
export async function* checkUtf8(
  chunks: AsyncIterable<Buffer>,
  state: { badUtf8: boolean },
): AsyncGenerator<Buffer> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for await (const chunk of chunks) {
    if (!state.badUtf8) {
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        state.badUtf8 = true;
      }
    }
    yield chunk;
  }
  if (!state.badUtf8) {
    try {
      decoder.decode();
    } catch {
      state.badUtf8 = true;
    }
  }
}
