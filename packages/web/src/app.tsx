import { Component, Suspense, lazy, useEffect, useState, type ReactNode } from 'react';
import { openSession, storedToken, type Session } from './session.ts';
import { useRoute, href } from './router.ts';
import { SignIn } from './pages/sign-in.tsx';
import { AppsPage } from './pages/apps.tsx';
import { AppPage } from './pages/app.tsx';
import { EnvironmentPage } from './pages/environment.tsx';
import { DeploymentPage } from './pages/deployment.tsx';
import { DeliveryPage } from './pages/delivery.tsx';
import { AuditPage } from './pages/audit.tsx';
import { EventsPage } from './pages/events.tsx';
import { PlatformPage, mayOpenPlatform } from './pages/platform.tsx';
import { TokensPage } from './pages/tokens.tsx';
import { ErrorMessage } from './components/common.tsx';

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
  // Why the kept token could not be checked (the server unreachable or failing); tried again on request.
  const [restoreError, setRestoreError] = useState<unknown>(null);
  const [restoreAttempt, setRestoreAttempt] = useState(0);
  const route = useRoute();

  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    openSession(token, () => setSession(null))
      .then(setSession)
      .catch((error: unknown) => {
        // Only a token the server refuses is forgotten; a server that is down keeps the user signed in.
        const { name, status } = (error ?? {}) as { name?: unknown; status?: unknown };
        if (name === 'ApiError' && status === 401) window.sessionStorage.clear();
        else setRestoreError(error);
      })
      .finally(() => setRestoring(false));
  }, [restoreAttempt]);

  if (restoring) return <p className="loading">Loading…</p>;
  if (restoreError && !session) {
    return (
      <main className="sign-in">
        <h1>Pave</h1>
        <ErrorMessage error={restoreError} />
        <button
          type="button"
          className="primary"
          onClick={() => {
            setRestoreError(null);
            setRestoring(true);
            setRestoreAttempt((n) => n + 1);
          }}
        >
          Try again
        </button>
      </main>
    );
  }
  if (!session) return <SignIn onSignedIn={setSession} onSignOut={() => setSession(null)} />;

  const [section, app, sub, env, subOfEnv, deployment] = route;
  // Only the routes the portal links to: `#/apps/shop/x/y` was taken for environment y.
  const depth = route.length;
  let page;
  if (section === 'apps' && app && sub === 'envs' && env && depth === 4)
    page = <EnvironmentPage session={session} app={app} env={env} />;
  else if (
    section === 'apps' &&
    app &&
    sub === 'envs' &&
    env &&
    subOfEnv === 'deployments' &&
    deployment &&
    depth === 6
  )
    page = (
      // Keyed: another deployment's page starts empty rather than showing this one's until it loads.
      <DeploymentPage
        key={`${app}/${env}/${deployment}`}
        session={session}
        app={app}
        env={env}
        id={deployment}
      />
    );
  else if (section === 'apps' && app && sub === 'insights' && depth === 3)
    page = (
      <Suspense fallback={<p className="loading">Loading…</p>}>
        <InsightsPage session={session} app={app} />
      </Suspense>
    );
  else if (section === 'apps' && app && sub === 'delivery' && depth === 3)
    page = <DeliveryPage session={session} app={app} />;
  else if (section === 'apps' && app && depth === 2) page = <AppPage session={session} app={app} />;
  else if (
    depth > 2 ||
    !['apps', 'audit', 'events', 'platform', 'templates', 'tokens', undefined].includes(section)
  )
    page = (
      <>
        <h1>No such page</h1>
        <p>
          The portal has no page at this address. <a href={href('apps')}>Go to the apps</a>.
        </p>
      </>
    );
  else if (section === 'audit') page = <AuditPage session={session} app={app} />;
  else if (section === 'events') page = <EventsPage session={session} app={app} />;
  else if (section === 'platform') page = <PlatformPage session={session} tab={app} />;
  else if (section === 'tokens') page = <TokensPage session={session} />;
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
          {session.can('event.read') && (
            <a href={href('events')} aria-current={section === 'events' ? 'page' : undefined}>
              Events
            </a>
          )}
          {session.can('audit.read-all') && (
            <a href={href('audit')} aria-current={section === 'audit' ? 'page' : undefined}>
              Audit log
            </a>
          )}
          {mayOpenPlatform(session) && (
            <a href={href('platform')} aria-current={section === 'platform' ? 'page' : undefined}>
              Platform
            </a>
          )}
          {session.can('token.self') && (
            <a href={href('tokens')} aria-current={section === 'tokens' ? 'page' : undefined}>
              Tokens and password
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
      <main>
        {/* Keyed by route: moving to another page starts without the failure of the last one. */}
        <PageBoundary key={route.join('/')}>{page}</PageBoundary>
      </main>
    </div>
  );
}

/**
 * Shows why a page failed instead of a blank portal: a page's code that could not be loaded (the server
 * unreachable, or upgraded since the portal was opened) or a page that failed to render.
 */
class PageBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <>
        <ErrorMessage error={this.state.error} />
        <p className="muted">
          This page could not be shown; if reloading does not help, check that Pave runs.
        </p>
        <button type="button" onClick={() => window.location.reload()}>
          Reload the page
        </button>
      </>
    );
  }
}
