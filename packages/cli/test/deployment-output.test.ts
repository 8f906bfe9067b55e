import { describe, expect, it } from 'vitest';
import type { Deployment, DeploymentPlan, EnvironmentStatus, SetDiff } from '@pave/core';
import { renderDeploymentDetail, renderDeploymentList } from '../src/commands/deployments.ts';
import {
  colorUnifiedDiff,
  diffQuery,
  renderPlan,
  renderResourceChanges,
  renderSetDiff,
} from '../src/commands/diff.ts';
import { logPrinter, parseTail } from '../src/commands/logs.ts';
import { renderContainers, renderStatus } from '../src/commands/status.ts';
import { colorsFor } from '../src/output/colors.ts';
import { capture, deployment as sharedDeployment } from './helpers.ts';

const plain = colorsFor(capture(true), { NO_COLOR: '1' });
const colored = colorsFor(capture(true), {});
const ESCAPE = '\u001b[';

const UNIFIED = [
  '--- deployment 16',
  '+++ deployment 17',
  '@@ -3,3 +3,3 @@',
  ' containers:',
  '-  image: shop/web:1.0',
  '+  image: shop/web:1.1',
].join('\n');

const diff: SetDiff = {
  from: { setId: 'aaaa', label: 'deployment 16' },
  to: { setId: 'bbbb', label: 'deployment 17' },
  changes: [
    { workload: 'api', action: 'keep', fields: [] },
    {
      workload: 'web',
      action: 'update',
      fields: ['containers.main.image', 'containers.main.variables.MODE'],
    },
    { workload: 'worker', action: 'add', fields: [] },
  ],
  values: [],
  unified: `${UNIFIED}\n`,
};

function deployment(fields: Partial<Deployment> = {}): Deployment {
  return sharedDeployment({
    setId: '0123456789abcdef0123',
    actor: 'alice',
    status: 'succeeded',
    finishedAt: '2025-01-31T09:30:05.250Z',
    message: 'new checkout',
    ...fields,
  });
}

describe('plan and diff output', () => {
  it('shows a plan as a change table, the unified diff, and that nothing was deployed', () => {
    const plan: DeploymentPlan = {
      setId: 'bbbbccccddddeeee',
      workloads: ['api', 'web', 'worker'],
      diff,
      resources: [],
    };
    expect(renderPlan(plan, plain)).toBe(
      [
        'WORKLOAD  ACTION  FIELDS',
        'api       keep    -',
        'web       update  containers.main.image, containers.main.variables.MODE',
        'worker    add     -',
        '',
        UNIFIED,
        '',
        'Plan only: nothing was deployed. Set bbbbccccdddd would be deployed (3 workloads).',
      ].join('\n'),
    );
  });

  it('says so when a plan changes nothing', () => {
    const same: SetDiff = {
      ...diff,
      changes: [{ workload: 'api', action: 'keep', fields: [] }],
      unified: '',
    };
    const text = renderPlan({ setId: 'aaaa', workloads: ['api'], diff: same, resources: [] }, plain);
    expect(text.split('\n').at(-1)).toBe('No changes against deployment 16. Nothing was deployed.');
  });

  it('shows what the deployment does to each resource between the workloads and the diff', () => {
    const plan: DeploymentPlan = {
      setId: 'bbbbccccddddeeee',
      workloads: ['api', 'web', 'worker'],
      diff,
      resources: [
        {
          address: 'api.db',
          type: 'postgres',
          action: 'create',
          definitionId: 'shop-postgres',
          reason: 'provisioned by shop-postgres',
        },
        {
          address: 'shared.cache',
          type: 'redis',
          action: 'keep',
          definitionId: 'default-redis',
          reason: 'in use',
        },
        {
          address: 'old.db',
          type: 'postgres',
          action: 'delete',
          definitionId: 'shop-postgres',
          reason: 'no longer used',
        },
      ],
    };
    expect(renderPlan(plan, plain)).toBe(
      [
        'WORKLOAD  ACTION  FIELDS',
        'api       keep    -',
        'web       update  containers.main.image, containers.main.variables.MODE',
        'worker    add     -',
        '',
        'ADDRESS       TYPE      ACTION  DEFINITION     REASON',
        'api.db        postgres  create  shop-postgres  provisioned by shop-postgres',
        'shared.cache  redis     keep    default-redis  in use',
        'old.db        postgres  delete  shop-postgres  no longer used',
        '',
        UNIFIED,
        '',
        'Plan only: nothing was deployed. Set bbbbccccdddd would be deployed (3 workloads).',
      ].join('\n'),
    );
  });

  it('counts a resource change as a change even when no workload changes', () => {
    const same: SetDiff = {
      ...diff,
      changes: [{ workload: 'api', action: 'keep', fields: [] }],
      unified: '',
    };
    const resources: DeploymentPlan['resources'] = [
      { address: 'old.cache', type: 'redis', action: 'delete', definitionId: null, reason: 'no longer used' },
    ];
    const text = renderPlan({ setId: 'aaaabbbbccccdddd', workloads: ['api'], diff: same, resources }, plain);
    expect(text).toContain('old.cache  redis  delete  -           no longer used');
    expect(text.split('\n').at(-1)).toMatch(/^Plan only: nothing was deployed\./);
    const kept = renderPlan(
      {
        setId: 'aaaa',
        workloads: ['api'],
        diff: same,
        resources: [{ ...resources[0]!, action: 'keep', reason: 'no longer used; kept' }],
      },
      plain,
    );
    expect(kept.split('\n').at(-1)).toBe('No changes against deployment 16. Nothing was deployed.');
  });

  it('colours a resource delete red and a create green only when colour is on', () => {
    const changes: DeploymentPlan['resources'] = [
      { address: 'a.db', type: 'postgres', action: 'delete', definitionId: 'd', reason: 'no longer used' },
      { address: 'b.db', type: 'postgres', action: 'create', definitionId: 'd', reason: 'new' },
    ];
    expect(renderResourceChanges(changes, plain)).not.toContain(ESCAPE);
    const lines = renderResourceChanges(changes, colored).split('\n');
    expect(lines[1]).toContain('\u001b[31mdelete\u001b[39m');
    expect(lines[2]).toContain('\u001b[32mcreate\u001b[39m');
  });

  it('prints the unified diff, or "No changes" when it is empty', () => {
    expect(renderSetDiff(diff, plain)).toBe(UNIFIED);
    expect(renderSetDiff({ ...diff, changes: [], unified: '' }, plain)).toBe(
      'No changes between deployment 16 and deployment 17',
    );
  });

  it('prints value changes after the workload diff, a secret only by its key', () => {
    const values: SetDiff['values'] = [
      { key: 'GREETING', action: 'changed', secret: false, from: 'hello', to: 'hi' },
      { key: 'NEW_KEY', action: 'added', secret: false, to: 'x' },
      { key: 'API_TOKEN', action: 'changed', secret: true },
    ];
    expect(renderSetDiff({ ...diff, values }, plain)).toBe(
      [
        UNIFIED,
        '',
        'Values:',
        '  ~ GREETING: hello → hi',
        '  + NEW_KEY: x',
        '  ~ API_TOKEN (secret, changed)',
      ].join('\n'),
    );
  });

  it('does not say "No changes" when only values changed', () => {
    const values: SetDiff['values'] = [{ key: 'OLD', action: 'removed', secret: true }];
    expect(renderSetDiff({ ...diff, changes: [], unified: '', values }, plain)).toBe(
      'Values:\n  - OLD (secret)',
    );
  });

  it('counts value changes in a plan as changes', () => {
    const same: SetDiff = {
      ...diff,
      changes: [{ workload: 'api', action: 'keep', fields: [] }],
      values: [{ key: 'GREETING', action: 'changed', secret: false, from: 'hello', to: 'hi' }],
      unified: '',
    };
    const text = renderPlan(
      { setId: 'aaaabbbbccccdddd', workloads: ['api'], diff: same, resources: [] },
      plain,
    );
    expect(text).toContain('Values:\n  ~ GREETING: hello → hi');
    expect(text.split('\n').at(-1)).toBe(
      'Plan only: nothing was deployed. Set aaaabbbbcccc would be deployed (1 workload).',
    );
  });

  it('colours added lines green and removed lines red only when colour is on', () => {
    expect(colorUnifiedDiff(UNIFIED, plain)).toBe(UNIFIED);
    const lines = colorUnifiedDiff(UNIFIED, colored).split('\n');
    expect(lines[4]).toBe('\u001b[31m-  image: shop/web:1.0\u001b[39m');
    expect(lines[5]).toBe('\u001b[32m+  image: shop/web:1.1\u001b[39m');
    expect(lines[3]).toBe(' containers:');
  });

  it('refuses deployment ids that are not numbers, and --to-env mixed with ids', () => {
    expect(diffQuery(undefined, undefined, undefined)).toEqual({});
    expect(diffQuery('12', '17', undefined)).toEqual({ from: '12', to: '17' });
    expect(diffQuery(undefined, undefined, 'prod')).toEqual({ toEnv: 'prod' });
    expect(() => diffQuery('latest', undefined, undefined)).toThrow(/^FROM: "latest" is not a deployment id/);
    expect(() => diffQuery('12', undefined, 'prod')).toThrow(/leave out the deployment ids/);
  });
});

describe('status output', () => {
  const status: EnvironmentStatus = {
    appId: 'shop',
    envId: 'dev',
    currentDeployment: deployment(),
    pendingDeployment: deployment({ id: '18', status: 'running', finishedAt: null }),
    target: { id: 'local', reachable: true },
    workloads: [
      {
        workload: 'web',
        state: 'ready',
        restarts: 0,
        deploymentId: '17',
        ports: [
          { name: 'http', port: 8080, hostPort: 41001 },
          { name: 'admin', port: 9090, hostPort: 41002 },
        ],
        urls: ['http://127.0.0.1:41001'],
      },
      { workload: 'worker', state: 'crash-looping', restarts: 4, deploymentId: '17', ports: [], urls: [] },
    ],
  };

  it('names the current and pending deployments, then one row per workload', () => {
    expect(renderStatus(status, plain)).toBe(
      [
        'shop/dev: current deployment 17 (deploy, succeeded); pending deployment 18 (deploy, running)',
        '',
        'WORKLOAD  STATE          RESTARTS  PORTS                    URLS                    DEPLOYMENT',
        'web       ready          0         http:41001, admin:41002  http://127.0.0.1:41001  17',
        'worker    crash-looping  4         -                        -                       17',
      ].join('\n'),
    );
  });

  it('lists the containers of every workload with --containers, "-" where the runtime says nothing', () => {
    const [web, worker] = status.workloads;
    const text = renderContainers(
      {
        ...status,
        workloads: [
          { ...web!, containers: [{ name: 'main', state: 'running', restarts: 0, pid: 4242 }] },
          {
            ...worker!,
            containers: [
              {
                name: 'main',
                state: 'waiting: CrashLoopBackOff',
                restarts: 4,
                lastExit: 'exited with code 3',
              },
            ],
          },
        ],
      },
      plain,
    );
    expect(text).toBe(
      [
        'WORKLOAD  CONTAINER  STATE                      RESTARTS  PID   LAST EXIT',
        'web       main       running                    0         4242  -',
        'worker    main       waiting: CrashLoopBackOff  4         -     exited with code 3',
      ].join('\n'),
    );
    expect(renderContainers({ ...status, workloads: [] }, plain)).toBe('No containers run in shop/dev.');
  });

  it('names the values version the current deployment runs with', () => {
    const text = renderStatus({ ...status, currentDeployment: deployment({ valuesVersion: 3 }) }, plain);
    expect(text.split('\n')[0]).toBe(
      'shop/dev: current deployment 17 (deploy, succeeded, values v3); pending deployment 18 (deploy, running)',
    );
  });

  it('says how to deploy when nothing runs', () => {
    const text = renderStatus(
      { ...status, currentDeployment: null, pendingDeployment: null, workloads: [] },
      plain,
    );
    expect(text).toBe(
      'shop/dev: nothing deployed yet\n\nNo workloads in shop/dev. ' +
        'Deploy some with `pave deploy -f score.yaml --app shop --env dev`.',
    );
  });

  it('says why a runtime target cannot be reached instead of listing workloads', () => {
    const unreachable = {
      ...status,
      target: { id: 'cluster', reachable: false, detail: 'the kubeconfig has no context "gone"' },
      workloads: [],
    };
    const lines = renderStatus(unreachable, plain).split('\n');
    expect(lines[2]).toBe('Runtime target cluster cannot be reached: the kubeconfig has no context "gone".');
    expect(lines[3]).toMatch(/pave targets apply/);
  });
});

describe('deployments output', () => {
  it('lists deployments with the set shortened to 12 characters and the duration', () => {
    const rows = renderDeploymentList(
      [
        deployment(),
        deployment({
          id: '16',
          kind: 'rollback',
          source: { deploymentId: '14' },
          status: 'failed',
          rolledBack: true,
          message: '',
          valuesVersion: 4,
        }),
      ],
      plain,
      'shop',
      'dev',
    ).split('\n');
    expect(rows[0]).toMatch(/^ID\s+KIND\s+STATUS\s+SET\s+VALUES\s+ACTOR\s+MESSAGE\s+CREATED\s+DURATION$/);
    expect(rows[1]).toMatch(
      /^17\s+deploy\s+succeeded\s+0123456789ab\s+-\s+alice\s+new checkout\s+2025-01-31T09:30:00Z\s+4\.2s$/,
    );
    expect(rows[2]).toMatch(
      /^16\s+rollback to 14\s+failed \(rolled back\)\s+0123456789ab\s+v4\s+alice\s+-\s+/,
    );
  });

  it('shows a failed deployment with whether it was rolled back, its journal, and its whole reason last', () => {
    const reason = 'web: exited with code 1\nlast log lines:\nboom';
    const text = renderDeploymentDetail(
      {
        ...deployment({ status: 'failed', reason, rolledBack: true, valuesVersion: 7 }),
        workloads: ['web'],
        workloadArtifacts: { web: null },
        journal: [
          {
            id: 1,
            at: '2025-01-31T09:30:02.000Z',
            step: 'ready',
            workload: 'web',
            status: 'failed',
            message: 'exited with code 1\nlast log lines:\nboom',
          },
        ],
      },
      plain,
    );
    expect(text).toContain('STATUS       failed (rolled back)');
    expect(text).toContain('ROLLED BACK  yes: the previous successful set was restored');
    expect(text).toContain('VALUES       version 7');
    expect(text).toMatch(
      /TIME\s+STEP\s+WORKLOAD\s+STATUS\s+MESSAGE\n2025-01-31T09:30:02Z\s+ready\s+web\s+failed\s+exited with code 1 …\n/,
    );
    expect(text.endsWith('\n\nReason: web: exited with code 1\n  last log lines:\n  boom')).toBe(true);
    expect(text).not.toContain(ESCAPE);
  });

  it('names the artifact each workload came from when any came from one, and nothing otherwise', () => {
    const detail = (workloads: string[], workloadArtifacts: Record<string, string | null>) =>
      renderDeploymentDetail({ ...deployment(), workloads, workloadArtifacts, journal: [] }, plain);
    expect(detail(['api', 'web', 'worker'], { api: '3', web: null, worker: '5' })).toMatch(
      /^WORKLOADS {4}api \(artifact 3\), web, worker \(artifact 5\)$/m,
    );
    expect(detail(['web', 'worker'], { web: null, worker: null })).toMatch(/^WORKLOADS {4}web, worker$/m);
    // A workload the record does not name came from no artifact known; `constructor` names a property of every
    // object's prototype, not an artifact.
    expect(detail(['constructor', 'web'], { web: null })).toMatch(/^WORKLOADS {4}constructor, web$/m);
  });

  // Found by a newcomer's review: a failed first deployment said "no: the failed set was left as it is"
  // while its journal said it had stopped what it started.
  it('says what was undone instead when a failed deployment was not rolled back', () => {
    const rollbackStep = (message: string) => ({
      id: 2,
      at: '2025-01-31T09:30:03.000Z',
      step: 'rollback',
      workload: null,
      status: 'info' as const,
      message,
    });
    const stopped = 'no previous set to restore: stopped what this deployment started (web)';
    const failed = deployment({ status: 'failed', reason: 'web: exited with code 1', rolledBack: false });
    const text = renderDeploymentDetail(
      { ...failed, workloads: ['web'], workloadArtifacts: { web: null }, journal: [rollbackStep(stopped)] },
      plain,
    );
    expect(text).toContain(`ROLLED BACK  no: ${stopped}`);
    const bare = renderDeploymentDetail(
      { ...failed, workloads: ['web'], workloadArtifacts: { web: null }, journal: [] },
      plain,
    );
    expect(bare).toMatch(/^ROLLED BACK {2}no$/m);
  });
});

describe('logs output', () => {
  const event = (workload: string, line: string) => ({
    workload,
    container: 'main',
    stream: 'stdout' as const,
    at: '2025-01-31T09:30:00.000Z',
    line,
  });

  it('prefixes each line with workload/container, padded to the widest prefix so far', () => {
    const print = logPrinter('table', plain);
    expect(print(event('worker', 'started'))).toBe('worker/main | started\n');
    expect(print(event('web', 'GET /'))).toBe('web/main    | GET /\n');
  });

  it('colours the prefix per workload when colour is on, the same colour each time', () => {
    const print = logPrinter('table', colored);
    const first = print(event('web', 'a'));
    expect(first.startsWith(ESCAPE)).toBe(true);
    expect(print(event('web', 'b')).split('|')[0]).toBe(first.split('|')[0]);
  });

  it('prints each event as one line of JSON with -o json', () => {
    const print = logPrinter('json', colored);
    const line = print(event('web', 'GET /'));
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd().includes('\n')).toBe(false);
    expect(JSON.parse(line)).toEqual(event('web', 'GET /'));
  });

  it('accepts --tail from 0 to 10000 lines', () => {
    expect(parseTail('0')).toBe(0);
    expect(parseTail('10000')).toBe(10_000);
    for (const text of ['-1', '10001', 'all', '1.5', '']) {
      expect(() => parseTail(text), text).toThrow(expect.objectContaining({ name: 'CliUsageError' }));
    }
  });
});
