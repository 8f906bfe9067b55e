import { useState, type ReactNode } from 'react';
import type { TemplateRecord } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, ErrorMessage, Time, useLoad } from './common.tsx';

/**
 * A template's details, what `pave templates get ID` shows, behind a disclosure that loads them when first
 * opened (a listing carries no files): its version and who applied it when, its parameters, its files and
 * what it sets up (app, environments, values, prepare commands, the environment it deploys).
 */
export function TemplateDetails({ session, id }: { session: Session; id: string }) {
  const [opened, setOpened] = useState(false);
  return (
    <details
      className="template-details"
      onToggle={(event) => {
        if (event.currentTarget.open) setOpened(true);
      }}
    >
      <summary aria-label={`Details of ${id}`}>Details</summary>
      {opened && <LoadedDetails session={session} id={id} />}
    </details>
  );
}

function LoadedDetails({ session, id }: { session: Session; id: string }) {
  const record = useLoad(() => session.client.getTemplate(id), [session, id]);
  return (
    <>
      <ErrorMessage error={record.error} />
      {!record.data && !record.error && <p className="loading">Loading {id}…</p>}
      {record.data && <RecordFields template={record.data} />}
      <Command>{`pave templates get ${id}`}</Command>
    </>
  );
}

/** The fields of a template version, in the order and words of `pave templates get`. */
function RecordFields({ template }: { template: TemplateRecord }) {
  const { setup } = template;
  const required = new Set(template.parameters.required ?? []);
  const parameters = Object.entries(template.parameters.properties);
  const fields: Array<[string, ReactNode]> = [
    [
      'Version',
      <>
        {template.version} (applied <Time at={template.createdAt} /> by {template.createdBy})
      </>,
    ],
    [
      'Parameters',
      parameters.length === 0
        ? '-'
        : parameters
            .map(
              ([name, schema]) =>
                `${name}: ${parameterType(schema)}${required.has(name) ? ' (required)' : ''}`,
            )
            .join(', '),
    ],
    ['Files', template.files.map((file) => file.path).join(', ') || '-'],
    ['App', <code key="app">{setup.app}</code>],
    [
      'Environments',
      setup.environments
        .map((env) => `${env.id} (${env.type}${env.from ? `, from ${env.from}` : ''})`)
        .join(', ') || '-',
    ],
    [
      'Values',
      setup.values.map((value) => `${value.key}${value.secret ? ' (secret, asked for)' : ''}`).join(', ') ||
        '-',
    ],
    ['Prepare', setup.prepare.join(' && ') || '-'],
    ['Deploys', setup.deploy ?? 'nothing'],
  ];
  return (
    <dl>
      {fields.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

// A parameter's type as `pave templates get` prints it: its enum's values, or its JSON Schema type.
function parameterType(schema: Record<string, unknown>): string {
  return Array.isArray(schema.enum) ? schema.enum.join('|') : String(schema.type ?? 'any');
}
