import { useEffect, useState } from 'react';
import { valuesAsDotenv, type ValueList } from '@pave/core';
import { Command } from './common.tsx';

/**
 * The download of an environment's effective values as a dotenv file (`<app>-<env>.env`), the file `pave
 * values export` writes, made in the browser from the list the page shows (core's `valuesAsDotenv`). Secrets are
 * left out and named: the portal never asks the server for a secret's value, so exporting them is the CLI's,
 * with `--reveal` (audited), as the hint says.
 */
export function ValuesExport({ values, app, env }: { values: ValueList; app: string; env: string }) {
  const fileName = `${app}-${env}.env`;
  const { text, omittedSecrets } = valuesAsDotenv(values);
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const made = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [text]);
  const shown = values.items.length - omittedSecrets.length;

  return (
    <div className="values-export">
      <p>
        {url && shown > 0 && (
          <a className="button" href={url} download={fileName}>
            Download as .env ({shown} {shown === 1 ? 'value' : 'values'})
          </a>
        )}
        {shown === 0 && (
          <span className="muted">
            No value to download{omittedSecrets.length > 0 ? ' but secrets' : ''}.
          </span>
        )}
      </p>
      {omittedSecrets.length > 0 && (
        <p className="hint">
          Secrets are left out ({omittedSecrets.join(', ')}): export them with{' '}
          <code>{`pave values export --app ${app} --env ${env} --reveal -f ${fileName}`}</code> (the read is
          recorded in the audit log).
        </p>
      )}
      <Command>{`pave values export --app ${app} --env ${env} -f ${fileName}`}</Command>
    </div>
  );
}
