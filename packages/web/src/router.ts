import { useEffect, useState } from 'react';

/** Where `goTo` leaves its notice for the page it goes to (this tab only). */
const NOTICE_KEY = 'pave.notice';

/** The portal's routes live in the URL's hash (`#/apps/shop/envs/dev`), so any path on the server serves it. */
export function useRoute(): string[] {
  const read = () =>
    window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
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
