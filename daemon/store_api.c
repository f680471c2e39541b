/*
 * store_api.c: the functions of store.h, each handed to the driver that
 * made the store (store_driver.h): SQLite (store_sqlite.c) or PostgreSQL
 * (store_pg.c). What is the same for both is here too: store_open_at()'s
 * choice of driver, stmt_run() and store_query_int() over the others, and
 * the savepoints' SQL. It logs nothing.
 */
#include "schema.h"
#include "store_driver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
store_open(const char *path, int busy_timeout_ms, int flags, struct store **out,
	   char *err, size_t errlen)
{
	return store_sqlite_open(path, busy_timeout_ms, flags, out, err, errlen);
}

int
store_open_at(const struct store_dsn *where, int flags, struct store **out,
	      char *err, size_t errlen)
{
	if (where->url != NULL)
		return store_pg_open(where, flags, out, err, errlen);
	return store_sqlite_open(where->path, where->busy_timeout_ms, flags, out, err, errlen);
}

bool
store_is_pg(struct store *st)
{
	return strcmp(st->ops->name, "postgresql") == 0;
}

void
store_close(struct store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

int
store_migrate(struct store *st, char *err, size_t errlen)
{
	return st->ops->migrate(st, err, errlen);
}

int
store_schema_version(struct store *st)
{
	return st->ops->schema_version(st);
}

const char *
store_errmsg(struct store *st)
{
	return st->ops->errmsg(st);
}

int
store_exec(struct store *st, const char *sql)
{
	return st->ops->exec(st, sql);
}

long long
store_changes(struct store *st)
{
	return st->ops->changes(st);
}

long long
store_last_id(struct store *st)
{
	return st->ops->last_id(st);
}

long long
store_total_changes(struct store *st)
{
	return st->ops->total_changes(st);
}

int
store_begin(struct store *st)
{
	return st->ops->begin(st);
}

int
store_begin_temp(struct store *st)
{
	return st->ops->begin_temp(st);
}

int
store_commit(struct store *st)
{
	return st->ops->commit(st);
}

int
store_rollback(struct store *st)
{
	return st->ops->rollback(st);
}

bool
store_in_txn(struct store *st)
{
	return st->ops->in_txn(st);
}

bool
store_conflicted(struct store *st)
{
	return st->ops->conflicted(st);
}

/* A driver without bulk loads (NULL operations) begins a plain write
 * transaction and builds nothing later: store.h's contract holds as it is. */
int
store_bulk_begin(struct store *st, const char *const *indexes)
{
	return st->ops->bulk_begin ? st->ops->bulk_begin(st, indexes) : st->ops->begin(st);
}

int
store_bulk_index(struct store *st, const char *table)
{
	return st->ops->bulk_index ? st->ops->bulk_index(st, table) : 0;
}

bool
store_in_bulk(struct store *st)
{
	return st->ops->in_bulk ? st->ops->in_bulk(st) : false;
}

int
store_checkpoint(struct store *st)
{
	return st->ops->checkpoint(st);
}

int
store_lock(struct store *st, enum store_lock which)
{
	return st->ops->lock(st, which);
}

void
store_unlock(struct store *st, enum store_lock which)
{
	st->ops->unlock(st, which);
}

int
store_ping(struct store *st)
{
	return st->ops->ping(st);
}

/* ---- savepoints ------------------------------------------------------------ */

int
store_savepoint_sql(const char *verb, const char *name, char *sql, size_t len)
{
	int n = snprintf(sql, len, "%s %s", verb, name);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	for (const char *p = name; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (p > name && *p >= '0' && *p <= '9')))
			return -EINVAL;
	return 0;
}

static int
exec_named(struct store *st, const char *verb, const char *name)
{
	char sql[128];
	int r = store_savepoint_sql(verb, name, sql, sizeof(sql));

	return r < 0 ? r : store_exec(st, sql);
}

int
store_savepoint(struct store *st, const char *name)
{
	return exec_named(st, "SAVEPOINT", name);
}

int
store_release(struct store *st, const char *name)
{
	return exec_named(st, "RELEASE", name);
}

int
store_rollback_to(struct store *st, const char *name)
{
	return exec_named(st, "ROLLBACK TO", name);
}

/* The cache's hash of a statement's text: its length and up to 32 bytes at
 * each end, so that finding a statement costs the same for any length (the
 * plugin host asks for its person view, 900 bytes, once an event). Texts
 * with the same hash are told apart by memcmp. */
uint64_t
store_sql_hash(const char *sql, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ len;
	size_t head = len < 32 ? len : 32, tail = len - head < 32 ? len - head : 32;

	for (size_t i = 0; i < head; i++)
		h = (h ^ (unsigned char)sql[i]) * 0x100000001b3ULL;
	for (size_t i = len - tail; i < len; i++)
		h = (h ^ (unsigned char)sql[i]) * 0x100000001b3ULL;
	return h;
}

/* ---- statements ------------------------------------------------------------ */

int
store_prepare(struct store *st, const char *sql, struct stmt **out)
{
	return st->ops->prepare(st, sql, out);
}

void
stmt_done(struct stmt *s)
{
	if (s != NULL)
		s->st->ops->done(s);
}

void
stmt_reset(struct stmt *s)
{
	s->st->ops->reset(s);
}

static int
bind(struct stmt *s, int i, struct store_value v)
{
	return s->st->ops->bind(s, i, &v);
}

int
stmt_bind_text(struct stmt *s, int i, const char *v)
{
	return bind(s, i, (struct store_value){ .kind = v ? STORE_BIND_TEXT : STORE_BIND_NULL,
						.v = v, .n = (size_t)-1 });
}

int
stmt_bind_textn(struct stmt *s, int i, const char *v, size_t n)
{
	return bind(s, i, (struct store_value){ .kind = v ? STORE_BIND_TEXT : STORE_BIND_NULL,
						.v = v, .n = n });
}

int
stmt_bind_text_copy(struct stmt *s, int i, const char *v)
{
	return bind(s, i, (struct store_value){ .kind = v ? STORE_BIND_TEXT_COPY :
						STORE_BIND_NULL, .v = v, .n = (size_t)-1 });
}

int
stmt_bind_blob(struct stmt *s, int i, const void *v, size_t n)
{
	return bind(s, i, (struct store_value){ .kind = STORE_BIND_BLOB, .v = v, .n = n });
}

int
stmt_bind_int(struct stmt *s, int i, int64_t v)
{
	return bind(s, i, (struct store_value){ .kind = STORE_BIND_INT, .i = v });
}

int
stmt_bind_double(struct stmt *s, int i, double v)
{
	return bind(s, i, (struct store_value){ .kind = STORE_BIND_DOUBLE, .d = v });
}

int
stmt_bind_null(struct stmt *s, int i)
{
	return bind(s, i, (struct store_value){ .kind = STORE_BIND_NULL });
}

int
stmt_param(struct stmt *s, const char *name)
{
	return s->st->ops->param(s, name);
}

int
stmt_step(struct stmt *s)
{
	return s->st->ops->step(s);
}

long long
stmt_run(struct stmt *s)
{
	return s->st->ops->run(s);
}

int
stmt_columns(struct stmt *s)
{
	return s->st->ops->columns(s);
}

const char *
stmt_column_name(struct stmt *s, int i)
{
	return s->st->ops->column_name(s, i);
}

enum store_type
stmt_type(struct stmt *s, int i)
{
	return s->st->ops->type(s, i);
}

int64_t
stmt_int(struct stmt *s, int i)
{
	return s->st->ops->col_int(s, i);
}

double
stmt_double(struct stmt *s, int i)
{
	return s->st->ops->col_double(s, i);
}

const char *
stmt_text(struct stmt *s, int i)
{
	return s->st->ops->col_text(s, i);
}

const void *
stmt_blob(struct stmt *s, int i)
{
	return s->st->ops->col_blob(s, i);
}

size_t
stmt_bytes(struct stmt *s, int i)
{
	return s->st->ops->col_bytes(s, i);
}

int
store_query_int(struct store *st, const char *sql, long long *v)
{
	struct stmt *s;
	int r = store_prepare(st, sql, &s);

	if (r < 0)
		return r;
	r = stmt_step(s);
	if (r == 1) {
		*v = stmt_int(s, 0);
		r = 0;
	} else if (r == 0) {
		r = -ENOENT;
	}
	stmt_done(s);
	return r;
}

int
store_define_predicate(struct store *st, const char *name, store_predicate_fn fn, void *arg,
		       const char *domain, enum store_outside outside)
{
	return st->ops->define_predicate(st, name, fn, arg, domain, outside);
}

int
store_latest_version(void)
{
	return schema_count;
}
