import { describe, expect, it } from 'vitest';
import { describeAuditEntry } from '../../packages/web/src/components/audit-summary.ts';
import { problemSentence } from '../../packages/web/src/components/problem-text.ts';

describe('audit entries as lines for people', () => {
  it('writes values changes with secrets marked and the environment named', () => {
    expect(
      describeAuditEntry({
        action: 'values.set',
        target: 'apps/shop/envs/dev/values',
        summary: {
          set: [
            { key: 'GREETING', secret: false },
            { key: 'API_TOKEN', secret: true },
          ],
          unset: [],
          versions: [{ envId: 'dev', version: 2 }],
        },
      }),
    ).toBe('set values GREETING, API_TOKEN (secret) on shop/dev');
  });

  it("writes a clone's copied values, and a membership SSO kept for the last org admin", () => {
    expect(
      describeAuditEntry({
        action: 'values.clone',
        target: 'apps/shop/envs/preview/values',
        summary: {
          from: 'dev',
          set: [
            { key: 'GREETING', secret: false },
            { key: 'API_TOKEN', secret: true },
          ],
          hidden: ['DEBUG'],
          versions: [{ envId: 'preview', version: 1 }],
        },
      }),
    ).toBe('copied the values GREETING, API_TOKEN (secret) of shop/dev into shop/preview, hiding DEBUG');
    expect(
      describeAuditEntry({
        action: 'team.member.keep',
        target: 'teams/admins',
        summary: { team: 'admins', username: 'alice', via: 'sso', reason: 'the last org admin' },
      }),
    ).toBe("kept alice in team admins: the organization's last admin");
  });

  it('writes deployments with their number, and a promotion with where it came from', () => {
    expect(
      describeAuditEntry({
        action: 'deployment.deploy',
        target: 'apps/shop/envs/dev/deployments/4',
        summary: { id: '4', kind: 'deploy', message: 'first release' },
      }),
    ).toBe('deployed shop/dev (deployment 4: "first release")');
    expect(
      describeAuditEntry({
        action: 'deployment.promote',
        target: 'apps/shop/envs/prod/deployments/9',
        summary: { id: '9', kind: 'promote', fromEnv: 'staging', message: 'promote from staging' },
      }),
    ).toBe('promoted shop/staging to shop/prod (deployment 9)');
  });

  it('lists the summary of an action it has no sentence for as compact key: value pairs', () => {
    expect(
      describeAuditEntry({
        action: 'something.new',
        target: 'x',
        summary: { id: 'a', list: ['b', 'c'], nested: { on: true }, none: null },
      }),
    ).toBe('id: a; list: b, c; nested: { on: true }; none: -');
  });
});

describe('API problems as sentences', () => {
  it('names the field in words, never as a JSON pointer', () => {
    expect(problemSentence({ path: '/body/name', message: 'must be a DNS label' })).toBe(
      'Name must be a DNS label.',
    );
    expect(problemSentence({ path: '/', message: 'send a JSON object' })).toBe('Send a JSON object.');
    expect(problemSentence({ path: '/unset/0', message: 'Invalid key' })).toBe('Invalid key (unset).');
  });
});
