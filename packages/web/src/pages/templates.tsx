import { Fragment } from 'react';
import { allPages } from '@pave/core';
import type { Session } from '../session.ts';
import { href } from '../router.ts';
import { Command, LoadStatus, Section, useLoad } from '../components/common.tsx';
import { NewAppFromTemplate } from '../components/new-app-form.tsx';

/**
 * "New app from template": the templates (golden paths) with their title, description and tags, and for the
 * chosen one (`#/templates/<id>`) a form of its parameters that creates the app, its environments and values.
 */
export function TemplatesPage({ session, template }: { session: Session; template?: string | undefined }) {
  // The templates are the choices of a new app: all of them, page after page.
  const templates = useLoad(
    async () => ({
      items: await allPages((cursor) => session.client.listTemplates(cursor ? { cursor } : {})),
    }),
    [session],
  );
  const mayCreate = session.can('app.create');
  const items = templates.data?.items ?? [];
  return (
    <>
      <p className="breadcrumbs">
        <a href={href('apps')}>Apps</a> / New app from template
      </p>
      <h1>New app from template</h1>
      {!mayCreate && (
        <p className="notice" role="status">
          You may read the templates but not create apps: ask an admin for the member role.
        </p>
      )}
      <Section title="Templates">
        <LoadStatus state={templates} what="templates" empty="No templates yet." />
        {items.length > 0 && (
          <ul className="plain-list template-list">
            {items.map((item) => (
              <li key={item.id} aria-current={item.id === template ? 'true' : undefined}>
                <a href={href('templates', item.id)}>{item.title}</a> <code className="muted">{item.id}</code>
                {item.tags.map((tag) => (
                  <Fragment key={tag}>
                    {' '}
                    <span className="tag">{tag}</span>
                  </Fragment>
                ))}
                {item.description && <div className="hint">{item.description}</div>}
              </li>
            ))}
          </ul>
        )}
        <Command>pave templates list</Command>
      </Section>
      {template && mayCreate && <NewAppFromTemplate key={template} session={session} id={template} />}
    </>
  );
}
