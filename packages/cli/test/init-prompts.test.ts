import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { TemplateRecord } from '@pave/core';
import { askTemplateAnswers } from '../src/init-prompts.ts';
import { fakeIo } from './helpers.ts';

const TEMPLATE = {
  id: 'worker',
  title: 'Worker',
  tags: [],
  parameters: {
    type: 'object',
    properties: {
      name: { type: 'string', title: 'Name' },
      port: { type: 'integer', default: 8080 },
      queue: { type: 'string', default: 'jobs' },
    },
    required: ['name'],
  },
  files: [],
  setup: {
    app: '{{ name }}',
    environments: [],
    values: [{ key: 'API_KEY', secret: true }],
    prepare: [],
    deploy: null,
  },
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'system',
} as TemplateRecord;

/** Types `keys` into `input` one prompt at a time, a little apart, as a person would. */
function type(input: PassThrough, keys: string[]): void {
  keys.forEach((text, index) => setTimeout(() => input.write(text), 100 * (index + 1)));
}

describe('pave init at a terminal', () => {
  it('asks for each parameter not given (defaults offered, numbers converted) and each secret value', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (chunk: Buffer) => (shown += chunk.toString()));
    const io = fakeIo({ stdinTTY: true });
    const answers: Record<string, unknown> = { queue: 'given' };
    const secrets: Record<string, string> = {};
    type(input, ['orders\r', '\r', 's3cret\r']);
    await askTemplateAnswers(TEMPLATE, answers, secrets, io, { input, output });
    expect(answers).toEqual({ name: 'orders', port: 8080, queue: 'given' });
    expect(secrets).toEqual({ API_KEY: 's3cret' });
    expect(shown).toContain('Name');
    expect(shown).toContain('port');
    expect(shown).not.toContain('s3cret');
  });
});
