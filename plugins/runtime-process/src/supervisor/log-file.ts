import { closeSync, fstatSync, openSync, renameSync, writeSync } from 'node:fs';

/**
 * An append-only file that rotates at `maxBytes`: the full file becomes `<path>.1` (replacing the previous
 * one) and writing continues in a new `<path>`, so a chatty process uses at most about twice `maxBytes`.
 */
export class RotatingFile {
  private fd: number;
  private size: number;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
  ) {
    this.fd = openSync(path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  /** Appends `text` (whole lines), rotating first if it would not fit. */
  append(text: string): void {
    const bytes = Buffer.from(text);
    if (this.size > 0 && this.size + bytes.length > this.maxBytes) this.rotate();
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written);
    this.size += bytes.length;
  }

  close(): void {
    closeSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = 0;
  }
}
