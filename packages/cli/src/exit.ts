// How `vbapi` ends: its exit codes, and the help text that lists them.

export const EXIT = {
  ok: 0,
  rowsFailed: 1,
  usage: 2,
  auth: 3,
  interrupted: 130,
} as const;

/** Why a held-back row is not done yet (the SDK's `heldBack`), as the run's end and report say it. */
export const HELD_BACK =
  "held back behind an earlier row with the same key whose request VBA may still apply";

/** How many of the rows not done yet were held back, and why; undefined when none was. */
export function heldBackReason(
  pending: number,
  heldBack: number,
  fmt: (n: number) => string,
): string | undefined {
  if (heldBack <= 0) return undefined;
  const which = heldBack >= pending ? (pending === 1 ? "" : "all ") : `${fmt(heldBack)} `;
  return `${which}${HELD_BACK}`;
}

/**
 * Rows held back behind rows whose earlier requests may still land (an interrupted session's,
 * or ones the SDK gave up on): until when (`until`, ISO 8601), as the end of the run says it.
 */
export function heldUntilLine(until: string, windowMs: number, now: number = Date.now()): string {
  // Past the whole window from now: this machine's clock went back since the journal's time.
  const behind = Date.parse(until) - now > windowMs + 1_000;
  return `held back until ${until}: an earlier request with their keys (of an interrupted session, or one given up on) may reach VBA until then (the client's ${windowMs / 1000} s timeout${behind ? "; this machine's clock is now behind the time the run folder recorded" : ""}); resume after that`;
}

/** "3 not done yet" and, when some of them were held back, how many and why. */
export function notDoneYet(pending: number, heldBack: number, fmt: (n: number) => string): string {
  const reason = heldBackReason(pending, heldBack, fmt);
  return `${fmt(pending)} not done yet${reason ? ` (${reason})` : ""}`;
}

export const EXIT_HELP = `Exit codes:
  0    every row succeeded
  1    some rows failed, were invalid or are not done yet (see failed.csv; rows held back
       behind an earlier row with the same key are sent by vbapi resume)
  2    usage, input or configuration error (nothing sent, or the input broke off), or VBA
       could not be reached (host, proxy, certificate); resumable
  3    stopped: the server refused the credentials (401/403); resumable
  130  interrupted (Ctrl-C, SIGTERM); resumable`;
