/*
 * store.h: the learning store behind one statement API.
 *
 * Use: store_open() gives a handle (one connection, one thread) that the
 * caller closes with store_close(). Modules keep their SQL text and run it
 * here: store_prepare() a statement, stmt_bind_*() its parameters, stmt_step()
 * through its rows reading stmt_int()/stmt_text()/..., then stmt_done(). Every
 * write of a run happens between store_begin() and store_commit() or
 * store_rollback(); savepoints nest inside it.
 *
 * Ownership: statements belong to the store. store_prepare() hands out a
 * cached statement, which stmt_done() resets and gives back (it is finalized
 * by store_close()); a statement must be done before the store is closed.
 * Text bound with stmt_bind_text() is not copied: it must stay valid until
 * the statement is stepped to its end, rebound, reset or done (use
 * stmt_bind_text_copy() otherwise). Column values are valid until the next
 * step, reset or done of their statement.
 *
 * Errors are negative errno codes: -EEXIST a unique constraint, -EBUSY the
 * store locked, -EDEADLK the transaction lost to another writer
 * (PostgreSQL's serialization failures and deadlocks: roll back and do it
 * again), -ECONNRESET the connection to the store lost, -ENOMEM, -EIO
 * anything else; store_errmsg() then names the store and the database's
 * message. Nothing here logs.
 *
 * The SQL is the one dialect both drivers run: SQLite's, as far as
 * PostgreSQL takes it too. What only SQLite takes is marked where it stands
 * with "SQLite:" in a comment; the PostgreSQL driver rewrites a small set of
 * it as it prepares a statement (store_pg_sql.h says which), and the
 * temporary tables of a run have a PostgreSQL form beside the SQLite one
 * (schema/pg/). Only store_sqlite.c calls sqlite3_*, only store_pg.c PQ*.
 */
#ifndef ROSTERD_STORE_H
#define ROSTERD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct stmt;

enum store_flags {
	STORE_NOCREATE = 1,   /* fail with -ENOENT if the file does not exist */
	STORE_NOMIGRATE = 2,  /* leave migrations to store_migrate() (dry runs) */
	STORE_SAMESCHEMA = 4, /* refuse a schema other than this program's (rosterctl) */
};

/* ---- the store ------------------------------------------------------------ */

/* Open (creating if needed) the SQLite store at path: WAL, foreign keys on,
 * busy timeout, pending migrations applied in one transaction. ":memory:"
 * is an empty store of one's own. */
int store_open(const char *path, int busy_timeout_ms, int flags,
	       struct store **out, char *err, size_t errlen);
/* Where a store is: an SQLite file (path), or a PostgreSQL database (url, a
 * libpq connection string; schema, the schema rosterd's tables are in;
 * password, NULL when the url or libpq's own files give it). */
struct store_dsn {
	const char *path;
	const char *url;
	const char *schema;
	const char *password;
	int busy_timeout_ms;   /* SQLite: how long to wait for a lock */
};
/* Open the store where says, as store_open() does: on PostgreSQL the schema
 * is made if missing and the migrations are its schema/pg/ forms, recorded
 * in the table schema_migrations. */
int store_open_at(const struct store_dsn *where, int flags, struct store **out,
		  char *err, size_t errlen);
/* Whether the store is a PostgreSQL database. */
bool store_is_pg(struct store *st);
/* The permission bits a store file created by store_open() gets, whatever
 * the umask (the -wal and -shm files follow it): STORE_DEFAULT_MODE until
 * set. For the whole process: rosterd sets it from store.mode. */
#define STORE_DEFAULT_MODE 0660
void store_set_file_mode(unsigned mode);
/* Whether a store could be created at path, as store_open() would (its
 * directory exists and may be written), without creating it: 0, or a
 * negative errno with the reason in err. For a dry run of a store that
 * does not exist yet, so that its status is the real run's. */
int store_creatable(const char *path, char *err, size_t errlen);
/* Roll back an open transaction, finalize every statement, close. NULL-safe. */
void store_close(struct store *st);
/* Apply pending migrations: in the open transaction if there is one (so a
 * dry run can roll them back), else in one of their own. */
int store_migrate(struct store *st, char *err, size_t errlen);
/* The schema version after migrations; -1 when it cannot be read. */
int store_schema_version(struct store *st);
int store_latest_version(void);
/* The last error, naming the store ("PATH: message"); valid until the next
 * call. */
const char *store_errmsg(struct store *st);

/* Run SQL with no result rows (several statements, ';'-separated, allowed). */
int store_exec(struct store *st, const char *sql);
/* Rows changed by the last INSERT, UPDATE or DELETE finished; the id of the
 * last row inserted; rows changed since the store was opened. */
long long store_changes(struct store *st);
long long store_last_id(struct store *st);
long long store_total_changes(struct store *st);

/* ---- transactions --------------------------------------------------------- */

/* store_begin takes the write lock at once; store_begin_temp begins one that
 * writes only temporary tables and holds no lock on the store's own tables
 * until it writes one (the staging of a run, while the directory is read). */
int store_begin(struct store *st);
int store_begin_temp(struct store *st);
int store_commit(struct store *st);
/* 0 also when no transaction was open. */
int store_rollback(struct store *st);
bool store_in_txn(struct store *st);
/* Whether the transaction lost to another writer (PostgreSQL: a
 * serialization failure or a deadlock, -EDEADLK, also when a caller in
 * between turned it into another error): roll it back; doing it again may
 * succeed. Never on SQLite, whose writers wait for each other. */
bool store_conflicted(struct store *st);
/* ---- bulk loads ----------------------------------------------------------- */

/* A bulk load is a write transaction that fills tables by large sets, begun
 * with store_bulk_begin() instead of store_begin(): for a first load into
 * tables that have no rows yet. The driver may then leave the check of each
 * row's references (foreign keys) to one check at the end, and take down
 * the indexes named (a NULL-ended list) until store_bulk_index() builds
 * them again, each in one sort rather than an insert a row (a unique one
 * taken down checks its rows only then). The caller builds a
 * table's indexes before it reads the table by them. store_commit() builds
 * what is left and checks every reference first: one that points nowhere
 * refuses the commit (-EIO, the transaction still open, store_errmsg()
 * names it) and the caller rolls back. The commit or the rollback ends the
 * bulk load: references are checked row by row again; a rollback brings
 * the indexes back as they were. Writes of other connections (the
 * platform's) are checked as ever. 0, or as store_begin(); -ENOENT when an
 * index named does not exist; -EINVAL inside a transaction. A driver that
 * has no such load (PostgreSQL) begins a plain write transaction and checks
 * as ever: the same store, by the same rules, in the time a row-by-row
 * transaction takes. */
int store_bulk_begin(struct store *st, const char *const *indexes);
/* Build again the indexes store_bulk_begin() took down on table (NULL:
 * on every table): 0; -EEXIST when a unique one finds two rows with one
 * key (that index stays down); or another negative errno. */
int store_bulk_index(struct store *st, const char *table);
/* Whether a bulk load is under way. */
bool store_in_bulk(struct store *st);

/* Savepoints inside a transaction: name is a plain identifier. rollback_to
 * undoes what was done since the savepoint and keeps it; release forgets it. */
int store_savepoint(struct store *st, const char *name);
int store_release(struct store *st, const char *name);
int store_rollback_to(struct store *st, const char *name);
/* Locks one holder at a time has, whichever process or machine: the run
 * lock (one sync run at a time on a store), and the service's lock (the
 * active one of several rosterd services on one store; the others are
 * standing by). SQLite: flock() on the store file for the run lock; the
 * service's lock is always had (a file on one machine has no standby).
 * PostgreSQL: session advisory locks of this connection, given up when it
 * closes or is lost. 0, -EBUSY (another holds it), or another error. */
enum store_lock { STORE_LOCK_RUN, STORE_LOCK_ACTIVE };
int store_lock(struct store *st, enum store_lock which);
void store_unlock(struct store *st, enum store_lock which);
/* Whether the connection to the store still works (and with it the locks
 * it holds): 0, or a negative errno (-ECONNRESET: lost). */
int store_ping(struct store *st);
/* After a run. SQLite: copy the WAL into the store file and truncate it, so
 * that it does not keep the size of the largest run: waits a moment at most
 * for readers to leave it, and returns -EBUSY if they did not (the next run
 * tries again). PostgreSQL: fresh statistics for the tables, after a run
 * that wrote many rows. */
int store_checkpoint(struct store *st);

/* ---- statements ----------------------------------------------------------- */

/* A prepared statement for sql: the cached one for the same text when it is
 * not in use, else a new one. -EIO (store_errmsg says why: a syntax error,
 * no such table) or -ENOMEM. */
int store_prepare(struct store *st, const char *sql, struct stmt **out);
/* Give s back (reset, bindings cleared). NULL-safe. */
void stmt_done(struct stmt *s);
/* Reset s and clear its bindings, to run it again. */
void stmt_reset(struct stmt *s);

/* Bind parameter i (1-based; ?N is N). NULL text binds NULL. 0, or -EIO
 * (no such parameter), -ENOMEM. */
int stmt_bind_text(struct stmt *s, int i, const char *v);
int stmt_bind_textn(struct stmt *s, int i, const char *v, size_t n);
int stmt_bind_text_copy(struct stmt *s, int i, const char *v);
int stmt_bind_blob(struct stmt *s, int i, const void *v, size_t n);
int stmt_bind_int(struct stmt *s, int i, int64_t v);
int stmt_bind_double(struct stmt *s, int i, double v);
int stmt_bind_null(struct stmt *s, int i);
/* The index of the named parameter (":now"), 0 when s has none by that name. */
int stmt_param(struct stmt *s, const char *name);

/* The next row: 1 a row, 0 the end, or a negative error (see the top). */
int stmt_step(struct stmt *s);
/* Step to the end: the rows changed (store_changes), or a negative error. */
long long stmt_run(struct stmt *s);

enum store_type { STORE_NULL, STORE_INT, STORE_FLOAT, STORE_TEXT, STORE_BLOB };
int stmt_columns(struct stmt *s);
const char *stmt_column_name(struct stmt *s, int i);
enum store_type stmt_type(struct stmt *s, int i);
/* Column i (0-based) of the current row: text NULL for SQL NULL; bytes
 * without the terminating NUL. */
int64_t stmt_int(struct stmt *s, int i);
double stmt_double(struct stmt *s, int i);
const char *stmt_text(struct stmt *s, int i);
const void *stmt_blob(struct stmt *s, int i);
size_t stmt_bytes(struct stmt *s, int i);

/* ---- one-shot helpers ----------------------------------------------------- */

/* The integer in the first column of the first row of sql (no parameters):
 * 0 with *v set, -ENOENT no row, or a negative error. */
int store_query_int(struct store *st, const char *sql, long long *v);

/* ---- functions the SQL calls ---------------------------------------------- */

/* Define name(text) in SQL as fn(arg, text, length) != 0 (NULL text: 0),
 * for this connection; fn NULL removes it. arg must outlive the definition.
 * SQLite calls fn as the SQL runs. PostgreSQL cannot call C from SQL: its
 * driver asks fn about every value of domain, a query of one column, at the
 * first statement that calls name() after this definition, and keeps the
 * answers (define it again when fn's answers change); for a text outside
 * domain, name() is what outside says: STORE_DOMAIN_ALL (domain holds every
 * text the SQL asks of), STORE_OUTSIDE_FALSE or STORE_OUTSIDE_TRUE. */
typedef bool (*store_predicate_fn)(void *arg, const char *text, size_t len);
enum store_outside { STORE_DOMAIN_ALL = -1, STORE_OUTSIDE_FALSE, STORE_OUTSIDE_TRUE };
int store_define_predicate(struct store *st, const char *name, store_predicate_fn fn,
			   void *arg, const char *domain, enum store_outside outside);

/* ---- what migrations do in C (store.c, for the drivers) ------------------ */

/* Give every person the comparison key of their username (fold.h:
 * username_key) in people.username_key, in the open transaction: what
 * migration 006 needs that SQL cannot compute. A driver runs it once it has
 * applied that migration. A username that is blank, not UTF-8, or whose key
 * an earlier row (by id) has already, keeps NULL. 0 or a negative error. */
int store_username_keys(struct store *st);

/* ---- small state ---------------------------------------------------------- */

/* The state table: small values the runs keep by key (the hierarchy's
 * digest, the plugins' "plugin:<name>:<key>"). get copies the value into
 * buf and returns its length, or -ENOENT (no such key, buf ""), -ENOSPC
 * (longer than len - 1), -EIO; put sets it, or deletes it when value is
 * NULL: 0 or -EIO. */
int store_state_get(struct store *st, const char *key, char *buf, size_t len);
int store_state_put(struct store *st, const char *key, const char *value);

#endif
