import { describe, expect, it } from 'vitest';
import { Template, TemplateFile, TemplateValue } from '../src/index.ts';

describe('the template schema', () => {
  it('fills in the defaults of a minimal template: no parameters, app `{{ name }}`, nothing deployed', () => {
    const template = Template.parse({
      id: 'hello',
      title: 'Hello',
      files: [{ path: 'a.txt', content: 'hi' }],
    });
    expect(template.parameters).toEqual({ type: 'object', properties: {} });
    expect(template.tags).toEqual([]);
    expect(template.setup).toEqual({
      app: '{{ name }}',
      environments: [],
      values: [],
      prepare: [],
      deploy: null,
    });
  });

  it('keeps JSON Schema keywords of the parameters it does not know itself', () => {
    const template = Template.parse({
      id: 'hello',
      title: 'Hello',
      files: [],
      parameters: { type: 'object', properties: { port: { type: 'integer', default: 8080 } }, $comment: 'x' },
    });
    expect(template.parameters).toMatchObject({ $comment: 'x', properties: { port: { default: 8080 } } });
  });

  it('refuses a file with both or neither of content and binaryContent, or a path leaving the project', () => {
    expect(TemplateFile.safeParse({ path: 'a', content: 'x', binaryContent: 'eA==' }).success).toBe(false);
    expect(TemplateFile.safeParse({ path: 'a' }).success).toBe(false);
    for (const path of ['/etc/passwd', '../up', 'a//b', 'a/../../b']) {
      expect(TemplateFile.safeParse({ path, content: 'x' }).success, path).toBe(false);
    }
    expect(TemplateFile.safeParse({ path: 'src/{{ name }}.js', content: 'x' }).success).toBe(true);
  });

  it('takes a value as either secret (asked for) or with a templated value, never both', () => {
    expect(TemplateValue.safeParse({ key: 'API_KEY', secret: true }).success).toBe(true);
    expect(TemplateValue.safeParse({ key: 'GREETING', value: 'hi {{ name }}' }).success).toBe(true);
    expect(TemplateValue.safeParse({ key: 'BOTH', secret: true, value: 'x' }).success).toBe(false);
    expect(TemplateValue.safeParse({ key: 'NEITHER' }).success).toBe(false);
  });

  it('refuses unknown keys and environment ttl that are not durations', () => {
    expect(Template.safeParse({ id: 'a', title: 'A', files: [], extra: 1 }).success).toBe(false);
    const ttl = Template.safeParse({
      id: 'a',
      title: 'A',
      files: [],
      setup: { environments: [{ id: 'dev', type: 'development', ttl: 'forever' }] },
    });
    expect(ttl.success).toBe(false);
  });
});
