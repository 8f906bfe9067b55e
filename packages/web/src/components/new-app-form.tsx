import { useMemo, useState } from 'react';
import Form from '@rjsf/core';
import type { ErrorSchema } from '@rjsf/utils';
import type { TemplateInstance, TemplateRecord } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, ErrorMessage, Section, problemsOf, useLoad } from './common.tsx';
import { NewAppResult } from './new-app-result.tsx';
import { schemaValidator } from './schema-validator.ts';
import {
  initCommand,
  problemField,
  serverFieldErrors,
  templateFormSchema,
  templateFormUiSchema,
  type TemplateFormData,
} from './template-form.ts';

/** The form of one template (at its latest version): answers and secret values in, a new app out. */
export function NewAppFromTemplate({ session, id }: { session: Session; id: string }) {
  const template = useLoad(() => session.client.getTemplate(id), [session, id]);
  if (template.error) return <ErrorMessage error={template.error} />;
  if (!template.data) return <p className="loading">Loading the template…</p>;
  return <TemplateForm key={`${id}@${template.data.version}`} session={session} template={template.data} />;
}

function TemplateForm({ session, template }: { session: Session; template: TemplateRecord }) {
  const schema = useMemo(() => templateFormSchema(template), [template]);
  const uiSchema = useMemo(() => templateFormUiSchema(template), [template]);
  const [formData, setFormData] = useState<TemplateFormData>({});
  // Problems show at their fields once a submit was tried, then follow every change.
  const [attempted, setAttempted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [serverErrors, setServerErrors] = useState<ErrorSchema | undefined>(undefined);
  const [created, setCreated] = useState<{ instance: TemplateInstance; command: string } | null>(null);

  const submit = async (data: TemplateFormData) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    setServerErrors(undefined);
    try {
      const instance = await session.client.instantiateTemplate(
        template.id,
        { answers: data.answers ?? {}, secrets: data.secrets ?? {} },
        template.version,
      );
      await session.refresh();
      setCreated({ instance, command: initCommand(template, instance.app.id, data) });
      // Secret values live only as long as the request: the form forgets them.
      setFormData({ answers: data.answers ?? {} });
      setAttempted(false);
    } catch (e) {
      setError(e);
      setServerErrors(serverFieldErrors(problemsOf(e), schema));
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <NewAppResult
        instance={created.instance}
        command={created.command}
        onAnother={() => {
          setCreated(null);
          setFormData({});
        }}
      />
    );
  }

  const name = formData.answers?.name;
  return (
    <Section title={`New app from ${template.title}`}>
      {template.description && <p className="muted">{template.description}</p>}
      <ErrorMessage error={error} shownAtField={(problem) => problemField(problem, schema) !== undefined} />
      <Form<TemplateFormData>
        className="template-form"
        schema={schema}
        uiSchema={uiSchema}
        validator={schemaValidator}
        formData={formData}
        onChange={(event) => {
          setFormData(event.formData ?? {});
          // The server's problems stand until the answers change.
          if (serverErrors) setServerErrors(undefined);
        }}
        onSubmit={(event) => void submit(event.formData ?? {})}
        onError={() => setAttempted(true)}
        liveValidate={attempted ? 'onChange' : undefined}
        showErrorList={false}
        extraErrors={serverErrors}
        noHtml5Validate
        disabled={busy}
      />
      <Command>{initCommand(template, typeof name === 'string' && name ? name : 'NAME', formData)}</Command>
    </Section>
  );
}
