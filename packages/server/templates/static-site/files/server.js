// {{ name }}: serves the files under public/ (index.html for a directory). No dependencies.
const http = require('node:http');
const { serveStatic } = require('./static.js');

const root = `${__dirname}/public`;
const server = http.createServer((request, response) => {
  serveStatic(root, request, response).catch(() => {
    response.statusCode = 500;
    response.end('internal error\n');
  });
});
// The process runtime gives each workload its port in PORT; in a container it is APP_PORT.
const port = Number(process.env.PORT || process.env.APP_PORT || {{ port }});
server.listen(port, () => console.log(`{{ name }} serving ${root} on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
