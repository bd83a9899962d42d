// Unit tests of the escaping helpers: CSV cells the CLI adds (no spreadsheet formulas), text on
// a terminal (no control sequences, no bidi overrides) and JSON lines (no raw C1 or bidi).
import { describe, expect, it } from "vitest";
import {
  cellText,
  safeJson,
  serverTextCell,
  spreadsheetCell,
  terminalText,
} from "../src/safe-text.ts";
import { RAW_CONTROL, withoutNewLines } from "./helpers.ts";

describe("spreadsheetCell", () => {
  it("puts a ' before a cell that starts with one: a leading ' is always the CLI's (a spreadsheet hides it)", () => {
    expect(spreadsheetCell("'=already quoted")).toBe("''=already quoted");
    expect(spreadsheetCell("'tis")).toBe("''tis");
  });

  it("is undone exactly by cellText, for every text up to 4 characters of the characters that matter", () => {
    const alphabet = ["'", "=", "+", "-", "@", ",", ";", " ", "\u3000", "\t", "\r", "\n", '"', "a"];
    let texts = [""];
    let checked = 0;
    for (let length = 1; length <= 4; length++) {
      texts = texts.flatMap((t) => alphabet.map((c) => t + c));
      for (const text of texts) {
        const cell = spreadsheetCell(text);
        if (cellText(cell) !== text) expect({ text, cell, back: cellText(cell) }).toBeUndefined();
        checked++;
      }
    }
    expect(checked).toBe(14 + 14 ** 2 + 14 ** 3 + 14 ** 4);
  });

  it("puts a ' before each formula trigger: = + - @ tab carriage return", () => {
    for (const trigger of ["=", "+", "-", "@", "\t", "\r"]) {
      expect(spreadsheetCell(`${trigger}1+2`)).toBe(`'${trigger}1+2`);
      expect(spreadsheetCell(trigger)).toBe(`'${trigger}`);
    }
    expect(spreadsheetCell('=HYPERLINK("http://evil.example","click")')).toBe(
      `'=HYPERLINK("http://evil.example","click")`,
    );
    expect(spreadsheetCell("-2+3+cmd|' /C calc'!A0")).toBe("'-2+3+cmd|' /C calc'!A0");
    // The rule has no exception for numbers: a cell the CLI adds is text.
    expect(spreadsheetCell("-5")).toBe("'-5");
    expect(spreadsheetCell("\t")).toBe("'\t");
  });

  it("also when the trigger comes after leading whitespace (spreadsheets that trim on import)", () => {
    for (const space of [" ", "   ", "\n", "\r\n", "\u00a0", "\u2003", "\u3000", "\ufeff", "\v"]) {
      for (const trigger of ["=", "+", "-", "@"]) {
        // After a line break the trigger gets its own ' too (see the separators below).
        const inner = /[\r\n]/.test(space) ? `${space}'${trigger}1` : `${space}${trigger}1`;
        expect(spreadsheetCell(`${space}${trigger}1`)).toBe(`'${inner}`);
      }
    }
  });

  it("leaves every other cell as it is", () => {
    for (const text of [
      "",
      " ",
      "\n",
      "Conflict",
      "0",
      "1.5",
      "a=b",
      "x-y",
      "Ünïcödé 日本 😀",
      "true",
    ]) {
      expect(spreadsheetCell(text)).toBe(text);
    }
  });
});

describe("spreadsheetCell after a ; or a tab (spreadsheets that split on ;)", () => {
  it("puts a ' before a trigger that would start a cell of its own", () => {
    expect(spreadsheetCell('Invalid value;=HYPERLINK(A1&"")')).toBe(
      `Invalid value;'=HYPERLINK(A1&"")`,
    );
    expect(spreadsheetCell('a; "+1+1" b\t-2')).toBe(`a; "'+1+1" b\t'-2`);
    expect(spreadsheetCell("=a;@b")).toBe("'=a;'@b");
    // A cell that starts with the separator, and a comma (a `;`-delimited file in a comma locale).
    expect(spreadsheetCell(";=1+1")).toBe(";'=1+1");
    expect(spreadsheetCell(";-2+3")).toBe(";'-2+3");
    expect(spreadsheetCell("bad value,=1+1")).toBe("bad value,'=1+1");
    expect(spreadsheetCell("\t=1+2")).toBe("'\t'=1+2");
    expect(spreadsheetCell("x\n=1+1;")).toBe("x\n'=1+1;");
    expect(spreadsheetCell("x\r\n@SUM(1)")).toBe("x\r\n'@SUM(1)");
    for (const text of ["a;b", "x; y", "1;2", "a,b", "1,5"])
      expect(spreadsheetCell(text)).toBe(text);
  });
});

describe("serverTextCell", () => {
  it("shows controls, bidi and invisible marks as escapes, keeps new lines and tabs, and guards formulas", () => {
    const hostile = "\x1b]8;;http://x\x07go\x1b]8;;\x07\r\u009b2J\u202e\u200bok\nnext\tcol";
    const cell = serverTextCell(hostile);
    expect(cell).toBe(
      "\\x1b]8;;http://x\\x07go\\x1b]8;;\\x07\\x0d\\x9b2J\\u202e\\u200bok\nnext\tcol",
    );
    expect(withoutNewLines(cell.replace(/\t/g, ""))).not.toMatch(RAW_CONTROL);
    expect(serverTextCell("=1+1")).toBe("'=1+1");
    expect(serverTextCell("\u0000=1")).toBe("\\x00=1");
  });
});

describe("terminalText", () => {
  it("shows every C0 control, DEL and C1 control as a visible escape", () => {
    for (let code = 0; code <= 0x9f; code++) {
      if (code >= 0x20 && code < 0x7f) continue;
      const c = String.fromCharCode(code);
      const shown = terminalText(`a${c}b`);
      expect(shown).toBe(`a\\x${code.toString(16).padStart(2, "0")}b`);
      expect(shown).not.toMatch(RAW_CONTROL);
    }
  });

  it("shows the bidi embeddings, overrides and isolates as escapes", () => {
    for (const code of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
      expect(terminalText(`x${String.fromCharCode(code)}y`)).toBe(`x\\u${code.toString(16)}y`);
    }
  });

  it("shows the invisible marks that hide or reorder text as escapes", () => {
    for (const code of [0x061c, 0x200b, 0x200e, 0x200f, 0x2028, 0x2029, 0x2060, 0x2064, 0xfeff]) {
      expect(terminalText(`x${String.fromCharCode(code)}y`)).toBe(
        `x\\u${code.toString(16).padStart(4, "0")}y`,
      );
    }
    // Joiners stay: Persian and Indic text, and emoji sequences, are written with them.
    expect(terminalText("می\u200cخواهم 👩\u200d💻")).toBe("می\u200cخواهم 👩\u200d💻");
  });

  it("defuses a title change, a screen clear, a CSI in 8 bits and a fake new line", () => {
    const hostile = "\x1b]0;pwned\x07\x1b[2J\u009b31m\u202egnp.exe\nrow 99: ok";
    const shown = terminalText(hostile);
    expect(shown).toBe("\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202egnp.exe\\x0arow 99: ok");
    expect(shown).not.toMatch(RAW_CONTROL);
  });

  it("keeps printable text, Unicode and emoji", () => {
    const text = "row 3: Conflict – “déjà vu” 日本語 😀 \u00a0 \\x1b";
    expect(terminalText(text)).toBe(text);
  });
});

describe("safeJson", () => {
  const value = {
    message: "\x1b[31mred\u009b2J\u0085\x7f\u202eevil\u2066\u2069 ok é 😀",
    nested: [{ "\u202ekey": "\u0000\u001f" }],
  };

  it("is the same JSON value, with no raw control, C1 or bidi character in the text", () => {
    const text = safeJson(value);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain("\\u009b");
    expect(text).toContain("\\u202e");
  });

  it("indented, too (its own new lines stay new lines)", () => {
    const text = safeJson(value, 2);
    expect(text.split("\n").length).toBeGreaterThan(3);
    expect(withoutNewLines(text)).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(text)).toEqual(value);
  });

  it("leaves ordinary JSON exactly as JSON.stringify writes it", () => {
    const plain = { a: 1, b: "text é 日本 😀", c: [true, null] };
    expect(safeJson(plain)).toBe(JSON.stringify(plain));
  });
});
