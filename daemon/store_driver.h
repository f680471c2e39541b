/*
 * store_driver.h: what a driver of the store API gives (store.h), private to
 * the store. A driver's store and statement begin with struct store and
 * struct stmt below, so that store_api.c can hand each call of store.h to
 * the driver that made the handle; the driver casts them back to its own
 * (container_of). The SQLite driver is store_sqlite.c, the PostgreSQL one
 * store_pg.c.
 *
 * Each operation has the contract of the store.h function of the same name.
 * Bindings arrive as one call, bind(), with the kind of value; text and
 * blobs that are not STORE_BIND_COPY stay the caller's until the statement is
 * stepped to its end, rebound, reset or done.
 */
#ifndef ROSTERD_STORE_DRIVER_H
#define ROSTERD_STORE_DRIVER_H

#include "store.h"

#include <stddef.h>

struct store_ops;

struct store {
	const struct store_ops *ops;
};

struct stmt {
	struct store *st;
};

enum store_bind {
	STORE_BIND_NULL, STORE_BIND_INT, STORE_BIND_DOUBLE, STORE_BIND_TEXT,
	STORE_BIND_TEXT_COPY, STORE_BIND_BLOB,
};

/* One bound value: v and n for text and blobs (n (size_t)-1: up to the NUL). */
struct store_value {
	enum store_bind kind;
	int64_t i;
	double d;
	const void *v;
	size_t n;
};

struct store_ops {
	const char *name;   /* "sqlite", "postgresql" */
	void (*close)(struct store *st);
	int (*migrate)(struct store *st, char *err, size_t errlen);
	int (*schema_version)(struct store *st);
	const char *(*errmsg)(struct store *st);
	int (*exec)(struct store *st, const char *sql);
	long long (*changes)(struct store *st);
	long long (*last_id)(struct store *st);
	long long (*total_changes)(struct store *st);
	int (*begin)(struct store *st);
	int (*begin_temp)(struct store *st);
	int (*commit)(struct store *st);
	int (*rollback)(struct store *st);
	bool (*in_txn)(struct store *st);
	bool (*conflicted)(struct store *st);
	/* Bulk loads; NULL: the driver has none (store_api.c: a plain write
	 * transaction). */
	int (*bulk_begin)(struct store *st, const char *const *indexes);
	int (*bulk_index)(struct store *st, const char *table);
	bool (*in_bulk)(struct store *st);
	int (*checkpoint)(struct store *st);
	int (*lock)(struct store *st, enum store_lock which);
	void (*unlock)(struct store *st, enum store_lock which);
	int (*ping)(struct store *st);
	int (*prepare)(struct store *st, const char *sql, struct stmt **out);
	void (*done)(struct stmt *s);
	void (*reset)(struct stmt *s);
	int (*bind)(struct stmt *s, int i, const struct store_value *v);
	int (*param)(struct stmt *s, const char *name);
	int (*step)(struct stmt *s);
	long long (*run)(struct stmt *s);
	int (*columns)(struct stmt *s);
	const char *(*column_name)(struct stmt *s, int i);
	enum store_type (*type)(struct stmt *s, int i);
	int64_t (*col_int)(struct stmt *s, int i);
	double (*col_double)(struct stmt *s, int i);
	const char *(*col_text)(struct stmt *s, int i);
	const void *(*col_blob)(struct stmt *s, int i);
	size_t (*col_bytes)(struct stmt *s, int i);
	int (*define_predicate)(struct store *st, const char *name, store_predicate_fn fn,
				void *arg, const char *domain, enum store_outside outside);
};

/* The drivers' openers (store_open_at() picks one). */
int store_sqlite_open(const char *path, int busy_timeout_ms, int flags, struct store **out,
		      char *err, size_t errlen);
int store_pg_open(const struct store_dsn *where, int flags, struct store **out,
		  char *err, size_t errlen);

/* The drivers' statement caches' hash of a statement's text. */
uint64_t store_sql_hash(const char *sql, size_t len);

/* Savepoint names are plain identifiers: 0, -EINVAL or -ENAMETOOLONG, with
 * "VERB NAME" in sql. */
int store_savepoint_sql(const char *verb, const char *name, char *sql, size_t len);

#endif
