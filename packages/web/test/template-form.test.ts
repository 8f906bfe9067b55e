import { describe, expect, it } from 'vitest';
import type { TemplateRecord } from '@pave/core';
import { schemaProblems, schemaValidator } from '../src/components/schema-validator.ts';
import {
  archiveBlob,
  initCommand,
  serverFieldErrors,
  templateFormSchema,
  templateFormUiSchema,
} from '../src/components/template-form.ts';

const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';

const template: TemplateRecord = {
  id: 'node-api',
  title: 'Node.js API',
  tags: ['node'],
  version: 2,
  createdAt: '2026-01-01T00:00:00Z',
  createdBy: 'system',
  parameters: {
    type: 'object',
    properties: {
      name: { type: 'string', pattern: NAME_PATTERN },
      port: { type: 'integer', default: 8080, minimum: 1024 },
      greeting: { type: 'string', default: 'hello' },
    },
    required: ['name'],
  },
  files: [],
  setup: {
    app: '{{ name }}',
    environments: [{ id: 'dev', type: 'development' }],
    values: [
      { key: 'GREETING', value: '{{ greeting }}' },
      { key: 'API_KEY', secret: true, description: 'the payment provider’s key' },
    ],
    prepare: [],
    deploy: 'dev',
  },
};

describe('the form of a template', () => {
  const schema = templateFormSchema(template);

  it('asks for the answers and for each secret value, the secrets as password inputs', () => {
    expect(Object.keys(schema.properties ?? {})).toEqual(['answers', 'secrets']);
    expect(schema.properties?.secrets).toMatchObject({
      properties: { API_KEY: { type: 'string', description: 'the payment provider’s key' } },
      required: ['API_KEY'],
    });
    expect(templateFormUiSchema(template).secrets).toEqual({
      API_KEY: { 'ui:widget': 'password', 'ui:autocomplete': 'new-password' },
    });
  });

  it('words every problem as the server does, at the field it concerns', () => {
    const problems = schemaProblems(schema, { answers: { name: 'My Site', port: 80 }, secrets: {} });
    expect(problems.map(({ property, message }) => ({ property, message }))).toEqual(
      expect.arrayContaining([
        { property: '.answers.name', message: `must match pattern "${NAME_PATTERN}"` },
        { property: '.answers.port', message: 'must be >= 1024' },
        { property: '.secrets.API_KEY', message: 'is required' },
      ]),
    );
    expect(problems).toHaveLength(3);
    const { errorSchema } = schemaValidator.validateFormData(
      { answers: {}, secrets: { API_KEY: 'k' } },
      schema,
    );
    expect(errorSchema).toEqual({ answers: { name: { __errors: ['is required'] } } });
  });

  it('accepts answers that fit', () => {
    expect(
      schemaProblems(schema, { answers: { name: 'orders', port: 8080 }, secrets: { API_KEY: 'k' } }),
    ).toEqual([]);
  });

  it('shows the server’s problems at the fields they name, and the others not', () => {
    const errors = serverFieldErrors(
      [
        { path: '/answers/port', message: 'port: must be integer (type)' },
        { path: '/secrets/API_KEY', message: 'API_KEY: is required; give it with --set API_KEY=…' },
        {
          path: '/answers',
          message: 'the template names its app after the answers (e.g. name); choose another',
        },
        {
          path: '/answers/colour',
          message: 'colour: is not a parameter of this template (additionalProperties)',
        },
      ],
      schema,
    );
    expect(errors).toEqual({
      answers: { port: { __errors: ['must be integer (type)'] } },
      secrets: { API_KEY: { __errors: ['is required; give it with --set API_KEY=…'] } },
    });
  });
});

describe('the pave init command of an instantiation', () => {
  it('names the directory after the app, sets the answers that differ from their defaults and leaves secrets as placeholders', () => {
    expect(
      initCommand(template, 'orders', {
        answers: { name: 'orders', port: 9090, greeting: 'hello' },
        secrets: { API_KEY: 'sk_live_123' },
      }),
    ).toBe('pave init node-api orders --set port=9090 --set API_KEY=…');
    expect(initCommand(template, 'orders', { answers: { name: 'orders', greeting: "it's me" } })).toBe(
      `pave init node-api orders --set 'greeting=it'\\''s me' --set API_KEY=…`,
    );
  });
});

describe('the files of an instantiation', () => {
  it('become a gzip Blob of the archive’s bytes', async () => {
    const bytes = Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0xff]);
    const blob = archiveBlob(btoa(String.fromCharCode(...bytes)));
    expect(blob.type).toBe('application/gzip');
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(bytes);
  });
});

describe('parameters with definitions', () => {
  it('keep their references working once nested in the form', () => {
    const withDefs: TemplateRecord = {
      ...template,
      parameters: {
        type: 'object',
        $defs: { label: { type: 'string', pattern: NAME_PATTERN } },
        properties: { name: { $ref: '#/$defs/label' } },
        required: ['name'],
      },
      setup: { ...template.setup, values: [] },
    };
    const schema = templateFormSchema(withDefs);
    expect(schemaProblems(schema, { answers: { name: 'ok-name' } })).toEqual([]);
    expect(schemaProblems(schema, { answers: { name: 'Not OK' } }).map((p) => p.property)).toEqual([
      '.answers.name',
    ]);
  });
});
