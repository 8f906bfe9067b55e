import { href } from '../router.ts';

/** The views of one app. */
export type AppView = 'environments' | 'insights' | 'delivery';

/**
 * The views of one app, as links: its environments (`#/apps/<app>`), its insights (`…/insights`) and its
 * delivery: build artifacts and automation rules (`…/delivery`).
 */
export function AppTabs({ app, current }: { app: string; current: AppView }) {
  return (
    <nav className="tabs app-tabs" aria-label={`Views of ${app}`}>
      <a href={href('apps', app)} aria-current={current === 'environments' ? 'page' : undefined}>
        Environments
      </a>
      <a href={href('apps', app, 'insights')} aria-current={current === 'insights' ? 'page' : undefined}>
        Insights
      </a>
      <a href={href('apps', app, 'delivery')} aria-current={current === 'delivery' ? 'page' : undefined}>
        Delivery
      </a>
    </nav>
  );
}
