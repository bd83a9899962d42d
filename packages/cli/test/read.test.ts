import { execFileSync } from "node:child_process";
import { createWriteStream, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { detectDelimiter } from "../src/input/detect.ts";
import { openInput } from "../src/input/open.ts";
import { InputError, type InputRow } from "../src/input/types.ts";
import { tempDir } from "./helpers.ts";

async function rows(path: string, options: { format?: "csv" | "ndjson" | "json" } = {}) {
  const input = await openInput({ path, ...options });
  const out: InputRow[] = [];
  for await (const r of input.rows) out.push(r);
  return { input, out };
}

function file(name: string, content: string | Buffer): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}

describe("CSV", () => {
  it("detects the delimiter from the header, outside quotes", () => {
    expect(detectDelimiter("a,b,c\n1;2;3;4;5")).toBe(",");
    expect(detectDelimiter("a;b;c")).toBe(";");
    expect(detectDelimiter("a\tb\tc")).toBe("\t");
    expect(detectDelimiter('"a,b,c"|d|e')).toBe("|");
    expect(detectDelimiter("single")).toBe(",");
  });

  it("reads RFC 4180 quirks: BOM, CRLF, quoted delimiters, quotes and newlines, empty lines; gzip by content", async () => {
    const text = '\uFEFFk;v\r\n1;"a;b"\r\n\r\n2;"say ""x"""\r\n3;"line1\r\nline2"\r\n4;\r\n';
    for (const path of [
      file("a.csv", text),
      file("a.csv.gz", gzipSync(text)),
      file("a.data", gzipSync(text)),
    ]) {
      const { input, out } = await rows(path, path.endsWith(".data") ? { format: "csv" } : {});
      expect(input.header).toEqual(["k", "v"]);
      expect(input.delimiter).toBe(";");
      expect(out.map((r) => [r.row, r.cells])).toEqual([
        [1, ["1", "a;b"]],
        [2, ["2", 'say "x"']],
        [3, ["3", "line1\r\nline2"]],
        [4, ["4", ""]],
      ]);
      expect(input.bytesRead()).toBe(input.size);
    }
  });

  it("a broken file is an InputError naming the line, never the content", async () => {
    const path = file("bad.csv", 'k,v\n1,ok\n2,"SECRET never closed\n');
    const input = await openInput({ path });
    const seen: number[] = [];
    const error = await (async () => {
      for await (const r of input.rows) seen.push(r.row);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1]);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(
      /CSV syntax error: a quoted field opened in row 2 \(the row after row 1\) is not closed by the end of the file \(line \d+\)/,
    );
    expect((error as Error).message).not.toContain("SECRET");
    await expect(openInput({ path: file("empty.csv", "") })).rejects.toThrow(/needs a header row/);
    await expect(openInput({ path: file("x.csv.gz", "not gzip at all") })).rejects.toThrow(
      /not a valid gzip file/,
    );
    await expect(openInput({ path: tempDir() })).rejects.toThrow(/is not a file/);
  });

  it("flags invalid UTF-8 far into the file on the row that has it", async () => {
    const good = Array.from({ length: 20000 }, (_, i) => `${i},caf\u00e9`).join("\n");
    const bytes = Buffer.concat([
      Buffer.from(`k,v\n${good}\n`),
      Buffer.from([0x31, 0x2c, 0xc3, 0x28, 0x0a]),
    ]);
    const { out } = await rows(file("u.csv", bytes));
    const bad = out.filter((r) => r.badUtf8 && r.cells?.some((c) => c.includes("\uFFFD")));
    expect(bad.map((r) => r.row)).toEqual([20001]);
    expect(out[0]?.cells).toEqual(["0", "caf\u00e9"]);
  });
});

describe("JSON and NDJSON", () => {
  it("NDJSON: a bad line is a row of its own, blank lines are skipped", async () => {
    const { input, out } = await rows(file("a.ndjson", '{"a":1}\n\n{bad\r\n{"b":2}\n'));
    expect(input.format).toBe("ndjson");
    expect(out.map((r) => r.value)).toEqual([
      { a: 1 },
      { invalidJson: true, line: "{bad" },
      { b: 2 },
    ]);
  });

  it("a JSON array is parsed incrementally: rows arrive before the array is complete", async () => {
    const dir = tempDir();
    const fifo = join(dir, "pipe.json");
    execFileSync("mkfifo", [fifo]);
    const writer = createWriteStream(fifo);
    writer.write('[{"a":1},{"a":2},');
    const input = await openInput({ path: fifo });
    const it = input.rows[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ row: 1, value: { a: 1 } });
    expect((await it.next()).value).toMatchObject({ row: 2, value: { a: 2 } });
    writer.end('{"a":3}]');
    expect((await it.next()).value).toMatchObject({ row: 3, value: { a: 3 } });
    expect((await it.next()).done).toBe(true);
  });

  it("a JSON syntax error says after which row", async () => {
    // The bad element comes a few chunks after the first one, which is read before it.
    const input = await openInput({
      path: file("b.json", `[{"a":1},${" ".repeat(200_000)}{"a":}]`),
    });
    const error = await (async () => {
      for await (const _ of input.rows);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(
      /^JSON syntax error \(1 row read before it\): Parser cannot parse input/,
    );
  });

  it("sniffs the format when the name does not tell", async () => {
    expect((await openInput({ path: file("x.dat", ' [{"a":1}]') })).format).toBe("json");
    expect((await openInput({ path: file("y.dat", '{"a":1}\n') })).format).toBe("ndjson");
    expect((await openInput({ path: file("z.dat", "a,b\n") })).format).toBe("csv");
    expect((await openInput({ path: file("t.tsv", "a\tb\n") })).delimiter).toBe("\t");
  });
});
