// Rows kept in PostgreSQL: one table, created when the server starts.

/** The rows of `pool` (a pg Pool): migrate(), list(), insert(value). */
function postgresRows(pool) {
  return {
    async migrate() {
      await pool.query('create table if not exists rows (id serial primary key, value text not null)');
    },
    async list() {
      return (await pool.query('select id, value from rows order by id')).rows;
    },
    async insert(value) {
      return (await pool.query('insert into rows (value) values ($1) returning id, value', [value])).rows[0];
    },
  };
}

/** Rows kept in memory, for tests. */
function memoryRows() {
  const rows = [];
  return {
    async migrate() {},
    async list() {
      return [...rows];
    },
    async insert(value) {
      const row = { id: rows.length + 1, value };
      rows.push(row);
      return row;
    },
  };
}

module.exports = { postgresRows, memoryRows };
