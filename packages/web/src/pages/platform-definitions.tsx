import { useRef, useState, type FormEvent } from 'react';
import { RESOURCE_TYPES, type MatchExplanation, type ResourceDefinitionSpec } from '@pave/core';
import type { Session } from '../session.ts';
import {
  Command,
  ConfirmAction,
  ErrorMessage,
  LoadStatus,
  MorePages,
  Section,
  focusedElement,
  shellWord,
  useAction,
  usePages,
} from '../components/common.tsx';
import {
  DeclarativeApply,
  checkDeclarationsOf,
  type DeclarationsCheck,
} from '../components/declarative-apply.tsx';
import { MatchCriteria, MatchResult } from '../components/matching.tsx';

/** The Apply YAML form's placeholder: a definition of docs/resources.md, shortened. */
const EXAMPLE = `- id: staging-postgres
  type: postgres
  driver: postgres-server
  driverInputs:
    secrets:
      adminUrl: postgres://pave_admin:…@db.staging.internal:5432/postgres
  criteria:
    - envType: staging`;

/**
 * Checks an Apply YAML text as `pave defs apply -f` checks its file, with core's parser (loaded when first
 * used): YAML, schema, duplicate ids; secret inputs are never quoted in a problem. A server's problem with a
 * field (a driver it does not have, a secret among the plain values) is located as the CLI locates it.
 */
function checkDefinitions(text: string, file: string): Promise<DeclarationsCheck<ResourceDefinitionSpec>> {
  return checkDeclarationsOf(text, file, (declarations) => declarations.DEFINITIONS);
}

/**
 * The Resource definitions tab: every definition (`pave defs list`) with its type, driver, criteria and the
 * names of its secret inputs, and which one provisions a resource (`pave defs match`). Those who may write
 * definitions (`definition.write`) also apply a YAML file of them with a plan first (`pave defs apply -f`) and
 * delete one that is not built in, after confirming; one that resources still use only with "delete anyway"
 * (`--force`), as the server refuses it otherwise and names them.
 */
export function DefinitionsTab({ session }: { session: Session }) {
  // keepDepth: applying or deleting reloads as many pages as were shown.
  const definitions = usePages(
    (cursor) => session.client.listResourceDefinitions(cursor ? { cursor } : {}),
    [session],
    { keepDepth: true },
  );
  const mayWrite = session.can('definition.write');
  const [deleting, setDeleting] = useState<string | null>(null);
  const [force, setForce] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  // The button that opened the confirmation, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const items = definitions.items ?? [];
  const close = () => {
    setDeleting(null);
    setForce(false);
  };

  return (
    <>
      <Section title="Resource definitions">
        <LoadStatus
          state={{ data: definitions.items && { items: definitions.items }, error: definitions.error }}
          what="definitions"
          empty="No resource definitions."
        />
        {done && (
          <p className="notice" role="status">
            {done}
          </p>
        )}
        {items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Type</th>
                <th scope="col">Driver</th>
                <th scope="col">Criteria</th>
                <th scope="col">Secret inputs</th>
                {mayWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((definition) => (
                <tr key={definition.id}>
                  <th scope="row" className="row-head">
                    {definition.id}
                    {definition.builtIn && <span className="tag">built-in</span>}
                  </th>
                  <td>{definition.type}</td>
                  <td>{definition.driver}</td>
                  <td>
                    <MatchCriteria criteria={definition.criteria} />
                  </td>
                  <td>
                    {definition.driverInputs.secrets.length > 0 ? (
                      definition.driverInputs.secrets.join(', ')
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                  {mayWrite && (
                    <td>
                      {definition.builtIn ? (
                        <span className="muted">ships with Pave</span>
                      ) : (
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Delete definition ${definition.id}`}
                          onClick={() => {
                            setDone(null);
                            opener.current = focusedElement();
                            setDeleting(definition.id);
                          }}
                        >
                          Delete
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <MorePages pages={definitions} label="More definitions" />
        <p className="hint">Secret inputs are listed by name only; their values are never shown.</p>
        <Command>pave defs list</Command>
      </Section>
      {mayWrite && (
        <DeclarativeApply
          noun="definition"
          list="definitions"
          command="defs"
          example={EXAMPLE}
          check={checkDefinitions}
          send={(items, dryRun) =>
            session.client.applyResourceDefinitions({ definitions: items, ...(dryRun ? { dryRun } : {}) })
          }
          onApplied={() => {
            setDone(null);
            definitions.reload();
          }}
          holdsSecrets={(items) =>
            items.some((definition) => Object.keys(definition.driverInputs?.secrets ?? {}).length > 0)
          }
        />
      )}
      <DefinitionMatch session={session} />
      {deleting && (
        <ConfirmAction
          title="Delete resource definition?"
          confirmLabel={force ? 'Delete anyway' : 'Delete definition'}
          busyLabel="Deleting…"
          action={() => session.client.deleteResourceDefinition(deleting, force ? { force } : {})}
          onDone={() => {
            close();
            setDone(`Deleted resource definition ${deleting}.`);
            definitions.reload();
          }}
          onCancel={() => {
            close();
            opener.current?.focus();
          }}
          command={`pave defs delete ${deleting}${force ? ' --force' : ''}`}
        >
          <p>
            Delete resource definition <strong>{deleting}</strong>? Resources of its type are then provisioned
            by the next matching definition. Applying its YAML again brings it back.
          </p>
          <label className="checkbox">
            <input type="checkbox" checked={force} onChange={(event) => setForce(event.target.checked)} />
            Delete it even while resources use it: they keep running and can still be deleted, but deploying
            them needs a definition again
          </label>
        </ConfirmAction>
      )}
    </>
  );
}

/** Explains which definition provisions a resource of a type in an app's environment. */
function DefinitionMatch({ session }: { session: Session }) {
  const [app, setApp] = useState('');
  const [env, setEnv] = useState('');
  const [type, setType] = useState('');
  const [resourceClass, setResourceClass] = useState('');
  const [id, setId] = useState('');
  const [result, setResult] = useState<MatchExplanation | null>(null);
  const action = useAction();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setResult(null);
    void action.run(async () => {
      setResult(
        await session.client.matchResourceDefinition({
          app: app.trim(),
          env: env.trim(),
          type: type.trim(),
          ...(resourceClass.trim() ? { class: resourceClass.trim() } : {}),
          ...(id.trim() ? { id: id.trim() } : {}),
        }),
      );
    });
  };

  const command =
    `pave defs match --app ${shellWord(app.trim() || 'APP')} --env ${shellWord(env.trim() || 'ENV')}` +
    ` --type ${shellWord(type.trim() || 'TYPE')}` +
    (resourceClass.trim() ? ` --class ${shellWord(resourceClass.trim())}` : '') +
    (id.trim() ? ` --id ${shellWord(id.trim())}` : '');

  return (
    <Section title="Explain a definition match">
      <p className="muted">Which definition provisions a resource, and why every other one does not.</p>
      <form onSubmit={submit}>
        <div className="form-row">
          <label>
            App
            <input value={app} onChange={(event) => setApp(event.target.value)} required autoComplete="off" />
          </label>
          <label>
            Environment
            <input value={env} onChange={(event) => setEnv(event.target.value)} required autoComplete="off" />
          </label>
          <label>
            Resource type
            <input
              value={type}
              onChange={(event) => setType(event.target.value)}
              required
              list="platform-resource-types"
              autoComplete="off"
              placeholder="e.g. postgres"
            />
          </label>
          <label>
            Class (optional)
            <input
              value={resourceClass}
              onChange={(event) => setResourceClass(event.target.value)}
              placeholder="default"
              autoComplete="off"
            />
          </label>
          <label>
            Resource id (optional)
            <input
              value={id}
              onChange={(event) => setId(event.target.value)}
              placeholder="e.g. api.db"
              autoComplete="off"
            />
          </label>
        </div>
        <datalist id="platform-resource-types">
          {Object.keys(RESOURCE_TYPES).map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <button type="submit" className="primary" disabled={action.busy}>
          Explain match
        </button>
      </form>
      <ErrorMessage error={action.error} />
      {result && <MatchResult explanation={result} noun="definition" />}
      <Command>{command}</Command>
    </Section>
  );
}
