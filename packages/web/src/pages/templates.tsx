import { Fragment, useCallback, useRef, useState } from 'react';
import { allPages } from '@pave/core';
import type { Session } from '../session.ts';
import { href } from '../router.ts';
import {
  Command,
  ConfirmAction,
  LoadStatus,
  Section,
  Time,
  focusedElement,
  useLoad,
} from '../components/common.tsx';
import { NewAppFromTemplate } from '../components/new-app-form.tsx';
import { TemplateApply } from '../components/template-apply.tsx';
import { TemplateDetails } from '../components/template-details.tsx';

/**
 * The templates page: the templates (golden paths) with their title, description, tags and latest version,
 * each with its details (`pave templates get`); for those who may create apps, "New app from template": for
 * the chosen one (`#/templates/<id>`) a form of its parameters that creates the app, its environments and
 * values. Those who may write templates (`template.write`) also apply a template file with a plan first
 * (`pave templates apply -f`) and delete a template, after confirming (`pave templates delete`).
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
  const mayWrite = session.can('template.write');
  const [deleting, setDeleting] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // The button that opened the confirmation, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const reload = templates.reload;
  const onApplied = useCallback(() => {
    setDone(null);
    reload();
  }, [reload]);
  const items = templates.data?.items ?? [];
  const title = mayCreate ? 'New app from template' : 'Templates';
  return (
    <>
      <p className="breadcrumbs">
        <a href={href('apps')}>Apps</a> / {title}
      </p>
      <h1>{title}</h1>
      {!mayCreate && (
        <p className="notice" role="status">
          You may read the templates but not create apps: ask an admin for the member role.
        </p>
      )}
      <Section title="Templates">
        <LoadStatus state={templates} what="templates" empty="No templates yet." />
        {done && (
          <p className="notice" role="status">
            {done}
          </p>
        )}
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
                {mayWrite && (
                  <>
                    {' '}
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Delete template ${item.id}`}
                      onClick={() => {
                        setDone(null);
                        opener.current = focusedElement();
                        setDeleting(item.id);
                      }}
                    >
                      Delete
                    </button>
                  </>
                )}
                {item.description && <div className="hint">{item.description}</div>}
                <div className="hint">
                  Version {item.version}, applied <Time at={item.createdAt} /> by {item.createdBy}
                </div>
                <TemplateDetails key={`${item.id}@${item.version}`} session={session} id={item.id} />
              </li>
            ))}
          </ul>
        )}
        <Command>pave templates list</Command>
      </Section>
      {template && mayCreate && <NewAppFromTemplate key={template} session={session} id={template} />}
      {mayWrite && <TemplateApply session={session} onApplied={onApplied} />}
      {deleting && (
        <ConfirmAction
          title="Delete template?"
          confirmLabel="Delete template"
          busyLabel="Deleting…"
          action={() => session.client.deleteTemplate(deleting)}
          onDone={() => {
            setDeleting(null);
            setDone(`Deleted template ${deleting}.`);
            // Its New app form has nothing left to make.
            if (deleting === template) window.location.hash = href('templates');
            reload();
          }}
          onCancel={() => {
            setDeleting(null);
            opener.current?.focus();
          }}
          command={`pave templates delete ${deleting}`}
        >
          <p>
            Delete template <strong>{deleting}</strong> with every version? <code>pave init {deleting}</code>{' '}
            and New app from template no longer offer it; apps made from it stay. Applying its YAML again
            brings it back.
          </p>
        </ConfirmAction>
      )}
    </>
  );
}
