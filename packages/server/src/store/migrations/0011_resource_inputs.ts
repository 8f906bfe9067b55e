import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * The inputs each resource was last created or updated with, so the server can keep the resource driver
 * contract: `update` gets them as `olds` and `delete` gets them, even after the resource's definition was
 * changed or deleted. `inputs` holds the driver's whole `ResourceInputs` (scope, definition values and
 * secrets, expanded params) as canonical JSON sealed with the environment's data key, like the outputs:
 * definition secrets and params expanded from other resources' secret outputs never reach the store in
 * plaintext. Resources provisioned before this migration have none (null) until their next deployment
 * stores them; until then the server falls back to the current definition.
 */
export const resourceInputs: StoreMigration = {
  name: '0011_resource_inputs',
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('resources').addColumn('inputs', 'text').execute();
  },
};
