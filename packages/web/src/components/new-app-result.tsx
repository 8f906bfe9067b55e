import { useEffect, useState } from 'react';
import type { TemplateInstance } from '@pave/core';
import { href } from '../router.ts';
import { Command, Section, shellWord } from './common.tsx';
import { archiveBlob } from './template-form.ts';

/**
 * What instantiating a template created: the app (a link to its page) with its environments, the generated
 * files to download as `<app>.tar.gz`, how to deploy them, and the `pave init` command that does the same.
 */
export function NewAppResult({
  instance,
  command,
  onAnother,
}: {
  instance: TemplateInstance;
  command: string;
  onAnother: () => void;
}) {
  const app = instance.app.id;
  const fileName = `${app}.tar.gz`;
  const [archiveUrl, setArchiveUrl] = useState<string | null>(null);
  useEffect(() => {
    const url = URL.createObjectURL(archiveBlob(instance.archive));
    setArchiveUrl(url);
    return () => URL.revokeObjectURL(url);
  }, [instance.archive]);

  const { setup } = instance;
  const scoreFiles = setup.score.map((file) => `-f ${shellWord(file)}`).join(' ');
  return (
    <Section title="App created">
      <p className="notice" role="status">
        Created app <a href={href('apps', app)}>{app}</a> from the template {instance.template.id} (version{' '}
        {instance.template.version}); you are its owner.
      </p>
      {instance.environments.length > 0 && (
        <p>
          Environments:{' '}
          {instance.environments.map((env, i) => (
            <span key={env.id}>
              {i > 0 && ', '}
              <a href={href('apps', app, 'envs', env.id)}>{env.id}</a> <span className="tag">{env.type}</span>
            </span>
          ))}
        </p>
      )}
      {instance.pendingEnvironments.length > 0 && (
        <p className="hint">
          Still to create once their source is deployed:{' '}
          {instance.pendingEnvironments.map((env) => `${env.id} (from ${env.from ?? '?'})`).join(', ')}.
        </p>
      )}
      <p>
        {archiveUrl && (
          <a className="button" href={archiveUrl} download={fileName}>
            Download the files ({fileName})
          </a>
        )}{' '}
        <span className="hint">
          {instance.files.length} {instance.files.length === 1 ? 'file' : 'files'} under {app}/
        </span>
      </p>
      {setup.deploy && (
        <p className="hint">
          Nothing is deployed yet: unpack the files
          {setup.prepare.length > 0 && (
            <>, run {setup.prepare.map((line) => `\`${line}\``).join(' and ')} in them</>
          )}{' '}
          and deploy with <code>{`pave deploy ${scoreFiles} --app ${app} --env ${setup.deploy} --wait`}</code>
          .
        </p>
      )}
      <Command>{command}</Command>
      <p>
        <button type="button" onClick={onAnother}>
          Create another app
        </button>
      </p>
    </Section>
  );
}
