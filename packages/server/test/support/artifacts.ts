/**
 * The Score file of an artifact a test pushes (`POST /apps/{app}/artifacts`' `scoreFiles`): workload `api`, a
 * busybox container whose variable GREETING is `greeting` (a commit, say), so that each push differs.
 */
export const pushedScoreFile = (greeting: string) => ({
  file: 'api.score.yaml',
  dir: '/srv/shop',
  content: [
    'apiVersion: score.dev/v1b1',
    'metadata:',
    '  name: api',
    'containers:',
    '  main:',
    '    image: busybox',
    '    command: ["sleep", "100"]',
    '    variables:',
    `      GREETING: ${greeting}`,
    '',
  ].join('\n'),
});
