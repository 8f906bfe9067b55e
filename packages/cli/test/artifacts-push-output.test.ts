import { describe, expect, it } from 'vitest';
import type { PushedArtifact } from '@pave/core';
import { renderPushed } from '../src/commands/artifacts.ts';
import { colorsFor } from '../src/output/colors.ts';

const plain = colorsFor({ isTTY: false, write: () => true }, { NO_COLOR: '1' });

const pushed = (triggered: PushedArtifact['triggered']): PushedArtifact => ({
  id: '7',
  app: 'shop',
  commit: '1f2e3d4c5b6a7988',
  branch: 'prod/x',
  commitTime: null,
  image: 'registry.test/shop/api:1',
  workloads: ['api'],
  createdAt: '2026-12-07T21:00:00Z',
  createdBy: 'ci-bot',
  triggered,
});

describe('what pave artifacts push prints of each rule', () => {
  it('says a deployment into a type that requires approval awaits it, and one elsewhere is queued', () => {
    const text = renderPushed(
      pushed([
        { ruleId: '4', env: 'prod', deploymentId: '14', awaitsApproval: true, refused: null },
        { ruleId: '5', env: 'dev', deploymentId: '15', awaitsApproval: false, refused: null },
        { ruleId: '6', env: 'qa', deploymentId: null, awaitsApproval: false, refused: 'frozen' },
      ]),
      plain,
    );
    expect(text.split('\n').slice(1)).toEqual([
      'Rules:',
      '  rule 4: deployment 14 to shop/prod awaits approval by someone else (`pave approvals get 14`)',
      '  rule 5: queued deployment 15 to shop/dev (`pave deployments get 15 --app shop --env dev`)',
      '  rule 6: refused to deploy to shop/qa: frozen',
    ]);
  });
});
