// Quoting for the commands `vbapi` prints for the user to paste (resume, load the failed file).

/** `text` as one POSIX shell word: as is when it is plain, else in single quotes. */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
