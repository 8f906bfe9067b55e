import { allPages, type AccessTarget, type EnvType } from '@pave/core';
import type { Session } from '../session.ts';
import { useLoad } from './common.tsx';

/** Every environment type, all pages at once (a platform has few): whether each is restricted, needs approval. */
export function useEnvTypes(session: Session) {
  return useLoad(
    async () => ({
      items: await allPages((cursor) => session.client.listEnvTypes(cursor ? { cursor } : {})),
    }),
    [session],
  );
}

/**
 * What a permission check about an environment of `app` of type `envType` needs: undefined until the type and
 * the types are known, so that actions that depend on them stay hidden until then. A type missing from
 * `types` counts as restricted, so that nothing is offered that may be refused.
 */
export function accessTargetOf(
  app: string,
  envType: string | undefined,
  types: { items: readonly EnvType[] } | undefined,
): AccessTarget | undefined {
  if (!envType || !types) return undefined;
  return { app, envType, restricted: types.items.find((type) => type.id === envType)?.restricted ?? true };
}
