// Counts as the CLI prints them: thousands separators, and the noun in the singular for one.

/**
 * A number with thousands separators (10,000), as `toLocaleString("en-US")` writes it. Whole
 * numbers are grouped by hand: the first toLocaleString of a process loads ICU's number
 * formatting, 10 ms of CPU, a twentieth of a whole `vbapi upsert`.
 */
export const fmt = (n: number): string =>
  Number.isSafeInteger(n) && !Object.is(n, -0)
    ? String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",")
    : n.toLocaleString("en-US");

/** `1 row`, `0 rows`, `1 retry`, `2 retries`: `plural` defaults to the noun plus "s". */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${fmt(n)} ${n === 1 ? noun : plural}`;
}
