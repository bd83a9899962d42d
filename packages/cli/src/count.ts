// Counts as the CLI prints them: thousands separators, and the noun in the singular for one.

/** A number with thousands separators (10,000). */
export const fmt = (n: number) => n.toLocaleString("en-US");

/** `1 row`, `0 rows`, `1 retry`, `2 retries`: `plural` defaults to the noun plus "s". */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${fmt(n)} ${n === 1 ? noun : plural}`;
}
