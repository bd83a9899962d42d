// A minimal logger interface (console fits) and level filtering.

export interface Logger {
  debug(message: string, ...rest: unknown[]): void;
  info(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "off";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };

/** Emits only at or above `level`; every line goes through `scrub` (secret redaction). */
export function levelLogger(
  logger: Logger,
  level: LogLevel,
  scrub: (text: string) => string,
): Logger {
  const at =
    (l: Exclude<LogLevel, "off">) =>
    (message: string): void => {
      if (RANK[l] >= RANK[level]) logger[l](scrub(message));
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
