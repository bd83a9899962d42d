// Files written only at their end, at a length the journal knows: positioned writes, so a file
// cut back to its last commit on resume continues exactly there.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, writeSync } from "node:fs";

export class AppendFile {
  private readonly fd: number;
  private length: number;

  /** Opens `path` for appending at `length` (default: the file's size). */
  constructor(path: string, length?: number) {
    this.fd = openSync(path, "r+");
    this.length = length ?? fstatSync(this.fd).size;
  }

  /** Where the next append goes: the file's committed-or-pending length. */
  get size(): number {
    return this.length;
  }

  append(text: string): void {
    const buffer = Buffer.from(text);
    let written = 0;
    while (written < buffer.length) {
      written += writeSync(
        this.fd,
        buffer,
        written,
        buffer.length - written,
        this.length + written,
      );
    }
    this.length += buffer.length;
  }

  sync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Cuts a file back to `length` (and fsyncs) when it is longer. */
export function truncate(path: string, length: number): void {
  const fd = openSync(path, "r+");
  try {
    if (fstatSync(fd).size > length) {
      ftruncateSync(fd, length);
      fsyncSync(fd);
    }
  } finally {
    closeSync(fd);
  }
}
