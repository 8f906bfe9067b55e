// What the bundled commands get when they import ../score.ts: `npm run build` redirects that import here and
// bundles score.ts on its own as dist/score-parser.cjs, which this module loads with V8's code cache beside it
// (see code-cache.ts). Tests and type checks import score.ts itself.
import { fileURLToPath } from 'node:url';
import { requireWithCodeCache } from './code-cache.ts';

type ScoreParser = typeof import('./score.ts');

// Parsed once, when the cache is (re)written, so that the cache holds the parser's code for a typical file and
// for one with problems, not only the code that runs when the bundle loads.
const SAMPLE = `apiVersion: score.dev/v1b1
metadata:
  name: sample
  annotations:
    example.com/owner: team
containers:
  main:
    image: nginx:1.27
    command: ["/bin/sh", "-c"]
    args: ["exec nginx -g 'daemon off;'"]
    variables:
      DATABASE_URL: postgres://\${resources.db.username}@\${resources.db.host}:\${resources.db.port}/\${resources.db.name}
      GREETING: hello
    files:
      - target: /etc/sample.conf
        content: |
          greeting = \${metadata.name}
    readinessProbe:
      httpGet:
        port: 8080
        path: /healthz
    resources:
      limits:
        memory: 128Mi
        cpu: 250m
service:
  ports:
    web:
      port: 80
      targetPort: 8080
resources:
  db:
    type: postgres
  cache:
    type: redis
    class: small
  dns:
    type: dns
  route:
    type: route
    params:
      host: \${resources.dns.host}
      path: /
      port: 80
`;
const SAMPLE_WITH_PROBLEMS = `apiVersion: score.dev/v1b1
metadata:
  name: Not A Name
containers:
  main:
    variables:
      PORT: 8080
resources:
  db:
    type: 12
`;

const parser = requireWithCodeCache<ScoreParser>(
  fileURLToPath(new URL('../score-parser.cjs', import.meta.url)),
  (warm) => {
    warm.mappingKeyPositions(SAMPLE, 'containers');
    warm.parseScore(SAMPLE, 'sample.score.yaml');
    for (const problem of warm.parseScore(SAMPLE_WITH_PROBLEMS, 'problems.score.yaml').problems) {
      warm.formatScoreProblem(problem);
    }
  },
);

export const { formatScorePath, formatScoreProblem, mappingKeyPositions, parseScore } = parser;
