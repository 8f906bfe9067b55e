import { href } from '../router.ts';

/** The views of one app, as links: its environments (`#/apps/<app>`) and its insights (`…/insights`). */
export function AppTabs({ app, current }: { app: string; current: 'environments' | 'insights' }) {
  return (
    <nav className="tabs app-tabs" aria-label={`Views of ${app}`}>
      <a href={href('apps', app)} aria-current={current === 'environments' ? 'page' : undefined}>
        Environments
      </a>
      <a href={href('apps', app, 'insights')} aria-current={current === 'insights' ? 'page' : undefined}>
        Insights
      </a>
    </nav>
  );
}
