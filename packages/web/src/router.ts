import { useEffect, useState } from 'react';

/** Where `goTo` leaves its notice for the page it goes to (this tab only). */
const NOTICE_KEY = 'pave.notice';

/**
 * The portal's routes live in the URL's hash (`#/apps/shop/envs/dev`), so any path on the server serves it. A
 * query after the route (`#/events/shop?type=deployment.failed`, see `useRouteQuery`) is not part of it.
 */
export function useRoute(): string[] {
  const read = () =>
    window.location.hash
      .replace(/^#\/?/, '')
      .replace(/\?.*$/s, '')
      .split('/')
      .filter(Boolean)
      .map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** A link target for a route. */
export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}

/**
 * A link target for a route with a query, such as the filters a page keeps in its address so that a filtered
 * view can be linked to and survives a reload (`#/events/shop?type=deployment.failed`); parameters that are
 * undefined or empty are left out.
 */
export function hrefWithQuery(parts: string[], query: Record<string, string | undefined>): string {
  const search = new URLSearchParams(
    Object.entries(query).filter((entry): entry is [string, string] => Boolean(entry[1])),
  ).toString();
  return search ? `${href(...parts)}?${search}` : href(...parts);
}

/** The query of the route (see `hrefWithQuery`), read again whenever the hash changes. */
export function useRouteQuery(): URLSearchParams {
  const read = () => new URLSearchParams(/\?(.*)$/s.exec(window.location.hash)?.[1] ?? '');
  const [query, setQuery] = useState(read);
  useEffect(() => {
    const onChange = () => setQuery(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return query;
}

/**
 * Goes to a route and leaves `notice` for the page there to show once (see `useArrivalNotice`): what was
 * done on a page that no longer exists, such as "Deleted app shop.".
 */
export function goTo(notice: string, ...parts: string[]): void {
  window.sessionStorage.setItem(NOTICE_KEY, notice);
  window.location.hash = href(...parts);
}

/** The notice `goTo` left for this page, if any; shown once, as a reload does not show it again. */
export function useArrivalNotice(): string | null {
  const [notice] = useState(() => window.sessionStorage.getItem(NOTICE_KEY));
  useEffect(() => window.sessionStorage.removeItem(NOTICE_KEY), []);
  return notice;
}
