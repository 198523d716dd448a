// Why: the migration kit (issue 15) imports users with the password hashes of the system they come
// from. Unsalted fast hashes (MD5, SHA-1, plain SHA-256) are accepted only when the operator says so,
// and those users must choose a new password right after their first sign-in with the old one:
// users.password_change_required marks them until they do. Other imported hashes need no column:
// they are recognised by their form and replaced by argon2id at the next sign-in.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.boolean('password_change_required').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => { t.dropColumn('password_change_required'); });
}
