// The validator runtime: the helpers every generated validator calls. codegen copies this file,
// from the marker line on, into the client's generated validators.ts (see runtime.ts): types stay
// exported there, functions and constants become private to that file. It is a real module so
// that it is linted, type-checked and unit-tested where it is written; it must import nothing.
// codegen: copy from here
export interface ValidationIssue {
  /** Index of the record in the array that was validated (-1 for path parameters). */
  index: number;
  /** The field at fault ("" for the record itself). */
  path: string;
  /** Why it is invalid. Never contains the value. */
  message: string;
}

/** Checks one record; pushes every issue into `out` (when given) and returns whether it is valid. */
export type RecordValidator = (
  record: unknown,
  index: number,
  out: ValidationIssue[] | null,
) => boolean;

export function fail(
  out: ValidationIssue[] | null,
  index: number,
  path: string,
  message: string,
): false {
  if (out !== null) out.push({ index, path, message });
  return false;
}

export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

export const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Strict RFC 3339 date-time, as the reference server checks it: `T` (or `t`) between date and
 * time, seconds required, and a time zone of `Z` or `±hh:mm` with hours 00-23 and minutes 00-59.
 * Without allocating.
 */
export function isDateTime(s: string): boolean {
  const n = s.length;
  if (n < 20) return false;
  const y1 = digits2(s, 0);
  const y2 = digits2(s, 2);
  const month = digits2(s, 5);
  const day = digits2(s, 8);
  const sep = s.charCodeAt(10);
  const hr = digits2(s, 11);
  const min = digits2(s, 14);
  const sec = digits2(s, 17);
  if (y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1 || hr < 0 || min < 0 || sec < 0)
    return false;
  if (
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  )
    return false;
  if (sep !== 84 && sep !== 116) return false;
  const year = y1 * 100 + y2;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : (DAYS[month] as number))) return false;
  let i = 19;
  if (s.charCodeAt(i) === 46) {
    i++;
    const start = i;
    while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === start) return false;
  }
  const z = s.charCodeAt(i);
  let tzSign = 0;
  let tzH = 0;
  let tzM = 0;
  if (z === 90 || z === 122) {
    if (i + 1 !== n) return false;
  } else if (z === 43 || z === 45) {
    tzSign = z === 43 ? 1 : -1;
    tzH = digits2(s, i + 1);
    tzM = digits2(s, i + 4);
    if (tzH < 0 || tzH > 23 || s.charCodeAt(i + 3) !== 58 || tzM < 0 || tzM > 59) return false;
    if (i + 6 !== n) return false;
  } else {
    return false;
  }
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  // A leap second is only valid at 23:59:60 UTC.
  const utcMin = min - tzM * tzSign;
  const utcHr = hr - tzH * tzSign - (utcMin < 0 ? 1 : 0);
  return sec === 60 && (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1);
}
