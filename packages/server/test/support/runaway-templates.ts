/** What the template limit tests render: a template, and a loop far past the 5 second limit on any machine. */

// Sizes that take Nunjucks and V8 tens of seconds at least (minutes without a limit): far past the limit of 5
// seconds on any machine, so the limit is what ends them.
export const LOOP = '{% for i in range(0, n) %}{% for j in range(0, n) %}{% endfor %}{% endfor %}';
export const LOOP_N = 6000;

/** A template with a `name`, an integer `n` (default 1) and the given files and other parameters. */
export function template(
  id: string,
  files: Array<{ path: string; content: string }>,
  properties: Record<string, object> = {},
) {
  return {
    id,
    title: id,
    parameters: {
      type: 'object',
      properties: { name: { type: 'string' }, n: { type: 'integer', default: 1 }, ...properties },
      required: ['name'],
    },
    files,
    setup: { environments: [{ id: 'dev', type: 'development' }] },
  };
}
