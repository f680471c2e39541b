/*
 * schema.h: the SQL compiled in from schema/. The numbered migrations come
 * from schema/NNN_*.sql (scripts/sql2c.sh, applied by store_sqlite.c); the
 * named pieces from the "-- name:" sections and the marked fragments
 * (between <NAME> and </NAME> comments) of the schema files
 * (scripts/sqlnames2c.sh): a run's temporary tables, and
 * pieces of a migration the code says again. All are constant text.
 */
#ifndef ROSTERD_SCHEMA_H
#define ROSTERD_SCHEMA_H

/* The migrations in order, NULL-ended, and how many there are. */
extern const char *const schema_migrations[];
extern const int schema_count;

/* schema/temp_recon.sql: reconcile.c and hierarchy.c (recon_priv.h says
 * what each table holds). */
extern const char schema_recon_tables[];        /* every table, made anew */
extern const char schema_recon_members_index[]; /* stage_members by value */
extern const char schema_recon_member_of_index[]; /* stage_member_of by person */
extern const char schema_recon_resolved_index[]; /* resolved person by person */
extern const char schema_recon_edges_index[];   /* want_edges */
extern const char schema_recon_eff_index[];     /* want_eff person by person */
/* The condition of the partial index people_attention (schema/004_resync.sql):
 * a query that says WHERE (schema_attention) may use that index. */
extern const char schema_attention[];

/* schema/temp_host.sql: the actions' and the plugin host's tables. */
extern const char schema_act_grant[];
extern const char schema_plugin_scan[];

/* The PostgreSQL forms (schema/pg/, store_pg.c): the migrations, the same
 * in number and name as SQLite's (the build checks), with their names;
 * and each named piece of schema/pg/temp_*.sql with the SQLite one it
 * stands for (schema_pg_forms[i].sqlite is schema_NAME), NULL-ended. */
extern const char *const schema_pg_migrations[];
extern const char *const schema_pg_names[];
extern const int schema_pg_count;
struct schema_form {
	const char *sqlite, *pg;
};
extern const struct schema_form schema_pg_forms[];

#endif
