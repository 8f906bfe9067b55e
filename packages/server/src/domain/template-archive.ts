import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import type { RenderedFile } from '@pave/core';

/**
 * The files of a rendered template as a gzipped tarball (ustar; text as UTF-8, binary files as their bytes),
 * every entry under `prefix/` (the app id), modes 0644 or 0755, in the order given.
 */
export async function templateArchive(files: readonly RenderedFile[], prefix: string): Promise<Buffer> {
  const archive = pack();
  const gzip = createGzip();
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    gzip.once('end', resolve);
    gzip.once('error', reject);
    archive.once('error', reject);
  });
  archive.pipe(gzip);
  const mtime = new Date();
  for (const file of files) {
    const bytes =
      file.binaryContent !== undefined
        ? Buffer.from(file.binaryContent, 'base64')
        : Buffer.from(file.content ?? '', 'utf8');
    await new Promise<void>((resolve, reject) => {
      archive.entry(
        { name: `${prefix}/${file.path}`, size: bytes.length, mode: file.executable ? 0o755 : 0o644, mtime },
        bytes,
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }
  archive.finalize();
  await done;
  return Buffer.concat(chunks);
}
