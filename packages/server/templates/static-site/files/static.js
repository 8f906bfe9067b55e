// Serving files from one directory, never outside it.
const { readFile, stat } = require('node:fs/promises');
const { extname, join, normalize, sep } = require('node:path');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** The file under `root` a URL path names, or null when it would leave `root`. */
function resolvePath(root, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  const path = normalize(join(root, decoded));
  return path === root || path.startsWith(root + sep) ? path : null;
}

/** Answers a GET or HEAD with the file (index.html for a directory), 404 when there is none. */
async function serveStatic(root, request, response) {
  let path = resolvePath(root, request.url);
  if (path && (await stat(path).catch(() => null))?.isDirectory()) path = join(path, 'index.html');
  const body = path ? await readFile(path).catch(() => null) : null;
  if (!body) {
    response.statusCode = 404;
    return response.end('not found\n');
  }
  response.setHeader('content-type', TYPES[extname(path)] ?? 'application/octet-stream');
  response.end(request.method === 'HEAD' ? undefined : body);
}

module.exports = { resolvePath, serveStatic };
