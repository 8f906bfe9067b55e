import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const ARTIFACT = {
  id: '42',
  app: 'shop',
  workloads: ['api', 'worker'],
  image: 'registry.example.com/shop:1f2e3d',
  commit: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c',
  branch: 'main',
  commitTime: null,
  createdAt: '2026-12-07T10:00:00.000Z',
  createdBy: 'ci',
};

/* `GET /apps/{app}/artifacts/{id}` had no CLI command. */
describe('pave artifacts get', () => {
  it('shows one artifact and how to deploy it, and the same as JSON with -o json', async () => {
    const server = await fakeServer(() => ({ status: 200, body: ARTIFACT }));
    const io = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'artifacts', 'get', '42', '--app', 'shop'), io),
      io.stderr.text,
    ).toBe(0);
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/api/v1/apps/shop/artifacts/42' });
    expect(io.stdout.text).toMatch(/^ID +42$/mu);
    expect(io.stdout.text).toMatch(/^COMMIT +1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c$/mu);
    expect(io.stdout.text).toMatch(/^WORKLOADS +api, worker$/mu);
    expect(io.stdout.text).toContain('Deploy it: pave deploy --artifact 42 --app shop --env ENV');
    const json = fakeIo();
    await runCli(cliArgs(server.url, 'artifacts', 'get', '42', '--app', 'shop', '-o', 'json'), json);
    expect(JSON.parse(json.stdout.text)).toEqual(ARTIFACT);
  });
});
