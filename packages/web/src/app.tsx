import { Suspense, lazy, useEffect, useState } from 'react';
import { openSession, storedToken, type Session } from './session.ts';
import { useRoute, href } from './router.ts';
import { SignIn } from './pages/sign-in.tsx';
import { AppsPage } from './pages/apps.tsx';
import { AppPage } from './pages/app.tsx';
import { EnvironmentPage } from './pages/environment.tsx';
import { AuditPage } from './pages/audit.tsx';
import { PlatformPage } from './pages/platform.tsx';

// The insights page (and its chart library) is loaded only when someone opens it.
const InsightsPage = lazy(() =>
  import('./pages/insights.tsx').then((module) => ({ default: module.InsightsPage })),
);

// The template form (rjsf and its JSON Schema validator) is loaded only when someone opens it.
const TemplatesPage = lazy(() =>
  import('./pages/templates.tsx').then((module) => ({ default: module.TemplatesPage })),
);

/** The portal: sign-in, then the pages the route names. */
export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(Boolean(storedToken()));
  const route = useRoute();

  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    openSession(token, () => setSession(null))
      .then(setSession)
      .catch(() => window.sessionStorage.clear())
      .finally(() => setRestoring(false));
  }, []);

  if (restoring) return <p className="loading">Loading…</p>;
  if (!session) return <SignIn onSignedIn={setSession} onSignOut={() => setSession(null)} />;

  const [section, app, , env] = route;
  let page;
  if (section === 'apps' && app && env) page = <EnvironmentPage session={session} app={app} env={env} />;
  else if (section === 'apps' && app && route[2] === 'insights')
    page = (
      <Suspense fallback={<p className="loading">Loading…</p>}>
        <InsightsPage session={session} app={app} />
      </Suspense>
    );
  else if (section === 'apps' && app) page = <AppPage session={session} app={app} />;
  else if (section === 'audit') page = <AuditPage session={session} app={app} />;
  else if (section === 'platform') page = <PlatformPage session={session} tab={app} />;
  else if (section === 'templates')
    page = (
      <Suspense fallback={<p className="loading">Loading…</p>}>
        <TemplatesPage session={session} template={app} />
      </Suspense>
    );
  else page = <AppsPage session={session} />;

  return (
    <div className="shell">
      <header className="top">
        <a className="brand" href={href('apps')}>
          Pave
        </a>
        <nav aria-label="Main">
          <a
            href={href('apps')}
            aria-current={section === 'apps' || section === 'templates' || !section ? 'page' : undefined}
          >
            Apps
          </a>
          {session.can('audit.read-all') && (
            <a href={href('audit')} aria-current={section === 'audit' ? 'page' : undefined}>
              Audit log
            </a>
          )}
          {(session.can('definition.read') || session.can('user.read')) && (
            <a href={href('platform')} aria-current={section === 'platform' ? 'page' : undefined}>
              Platform
            </a>
          )}
        </nav>
        <span className="who">
          {session.whoami.username}
          <button type="button" onClick={() => session.signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <main>{page}</main>
    </div>
  );
}
