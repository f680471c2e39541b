/*
 * store_sqlite.c: the SQLite driver of the store API (store.h), and the only
 * file that calls sqlite3_*. The store is an SQLite file shared with the
 * learning platform: opened in WAL mode with foreign keys on and a busy
 * timeout, its numbered schema migrations compiled in from schema/NNN_*.sql.
 * Prepared statements are cached by their text. It logs nothing.
 *
 * A store file it creates gets the mode of store_set_file_mode() whatever
 * the umask; SQLite gives the -wal and -shm files beside it the mode (and,
 * as root, the owner) of the store file, so the learning platform's account
 * in the store's group can read and write all three.
 */
#include "schema.h"
#include "store_driver.h"

#include <errno.h>
#include <libgen.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>


/* Statements are cached by their text in a small hash table; one in use
 * when its text is asked for again gets a twin that is not cached. */
#define STMT_BUCKETS 256
#define STMT_CACHE_MAX 512

struct sq_stmt {
	struct stmt base;
	sqlite3_stmt *s;
	struct sq_store *st;
	struct sq_stmt *next;   /* in its bucket */
	uint64_t hash;
	size_t len;             /* of sql */
	bool in_use, cached;
	char sql[];
};

/* An index a bulk load took down, to build again. */
struct bulk_index {
	char *name, *table, *sql;
	bool built;
};

struct sq_store {
	struct store base;
	sqlite3 *db;
	int lock_fd;        /* the run lock, -1 when not held */
	bool bulk;                  /* a bulk load is under way */
	bool rollback_journal;      /* it left WAL mode for a rollback journal */
	struct bulk_index *down;    /* the indexes it took down */
	size_t ndown;
	char note[512];             /* a failure of the driver's own; "" none */
	struct predicate *preds;
	int busy_timeout;   /* ms */
	size_t ncached;
	struct sq_stmt *bucket[STMT_BUCKETS];
	char errbuf[1024];
};

/* How long the checkpoint after a run may wait for readers to leave the WAL;
 * the platform's writers wait as long (they need the write lock it holds). */
#define CHECKPOINT_WAIT_MS 250

#define SQ(base) ((struct sq_store *)(void *)(base))
#define SQS(base) ((struct sq_stmt *)(void *)(base))

/* The permission bits of a store file created from now on. */
static mode_t create_mode = STORE_DEFAULT_MODE;

void
store_set_file_mode(unsigned mode)
{
	create_mode = (mode_t)(mode & 0777);
}

/* Create the store file at path with create_mode unless it exists (a path
 * SQLite takes as something else, ":memory:" or "file:...", is left to it).
 * Returns 0 with *created saying whether it was made now, or a negative
 * errno with the reason in err. */
int
store_creatable(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path), *dir;
	int r = 0;

	if (copy == NULL)
		return -ENOMEM;
	dir = dirname(copy);
	if (access(dir, W_OK | X_OK) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot create the store: %s%s", path, strerror(errno),
			 errno == ENOENT ? " (its directory does not exist)" : "");
	}
	free(copy);
	return r;
}

static int
file_create(const char *path, bool *created, char *err, size_t errlen)
{
	int fd, r;

	*created = false;
	if (path[0] == '\0' || strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
		  create_mode);
	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot create the store: %s%s", path, strerror(errno),
			 errno == ENOENT ? " (its directory does not exist)" : "");
		return r;
	}
	/* open() applied the umask: the mode is what the config says. */
	if (fchmod(fd, create_mode) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot set its mode to %04o: %s", path,
			 (unsigned)create_mode, strerror(errno));
		close(fd);
		unlink(path);
		return r;
	}
	close(fd);
	*created = true;
	return 0;
}

/* Refuse a store file of 0 bytes that this open did not make: SQLite would
 * take it for a new, empty store (and a run would fill it from nothing),
 * where it is a store truncated or a wrong path. One with a WAL holding
 * data is left to SQLite. 0, or -EINVAL with the reason in err. */
static int
file_not_empty(const char *path, bool created, char *err, size_t errlen)
{
	char wal[PATH_MAX];
	struct stat sb;

	if (created || path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
	    strncmp(path, "file:", 5) == 0)
		return 0;
	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > 0)
		return 0;
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) < sizeof(wal) &&
	    stat(wal, &sb) == 0 && sb.st_size > 0)
		return 0;
	snprintf(err, errlen, "%s: the file is empty (0 bytes), not a store: if it is to be "
		 "a new store, remove it and rosterd creates one", path);
	return -EINVAL;
}

static const char *
sq_errmsg(struct store *base)
{
	struct sq_store *st = SQ(base);
	const char *path = sqlite3_db_filename(st->db, "main");
	const char *msg = st->note[0] != '\0' ? st->note : sqlite3_errmsg(st->db);

	if (path == NULL || path[0] == '\0')
		return msg;
	snprintf(st->errbuf, sizeof(st->errbuf), "%s: %s", path, msg);
	return st->errbuf;
}

/* The store API's error for an SQLite result code. */
static int
errno_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ?
		       -EEXIST : -EIO;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static int
sq_exec(struct store *base, const char *sql)
{
	struct sq_store *st = SQ(base);
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : errno_of(rc);
}

static long long
sq_changes(struct store *base)
{
	struct sq_store *st = SQ(base);
	return sqlite3_changes(st->db);
}

static long long
sq_last_id(struct store *base)
{
	struct sq_store *st = SQ(base);
	return sqlite3_last_insert_rowid(st->db);
}

static long long
sq_total_changes(struct store *base)
{
	struct sq_store *st = SQ(base);
	return sqlite3_total_changes(st->db);
}

static int
user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *s = NULL;
	int r = -EIO;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		*v = sqlite3_column_int(s, 0);
		r = 0;
	}
	sqlite3_finalize(s);
	return r;
}

static int
sq_schema_version(struct store *base)
{
	struct sq_store *st = SQ(base);
	int v = -1;

	user_version(st->db, &v);
	return v;
}

static int
sq_migrate(struct store *base, char *err, size_t errlen)
{
	struct sq_store *st = SQ(base);
	bool own_txn = !store_in_txn(&st->base);
	char sql[64];
	int v, r;

	if (user_version(st->db, &v) < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s", store_errmsg(&st->base));
		return -EIO;
	}
	if (v > schema_count) {
		snprintf(err, errlen, "the store has schema version %d, newer than this rosterd "
			 "knows (%d): use a newer rosterd", v, schema_count);
		return -EPROTO;
	}
	if (v == schema_count)
		return 0;
	if (own_txn && (r = store_begin(&st->base)) < 0) {
		snprintf(err, errlen, "cannot lock the store to migrate it: %s", store_errmsg(&st->base));
		return r;
	}
	/* Another process may have migrated it while we waited for the lock. */
	if (user_version(st->db, &v) < 0)
		goto fail;
	for (int i = v; i < schema_count; i++) {
		char *msg = NULL;
		if (sqlite3_exec(st->db, schema_migrations[i], NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "schema migration %03d failed: %s", i + 1,
				 msg ? msg : store_errmsg(&st->base));
			sqlite3_free(msg);
			if (own_txn)
				store_rollback(&st->base);
			return -EIO;
		}
		/* 006 adds the usernames' keys, which only C computes */
		if (i + 1 == 6 && store_username_keys(&st->base) < 0) {
			snprintf(err, errlen, "schema migration 006 failed: %s", store_errmsg(&st->base));
			if (own_txn)
				store_rollback(&st->base);
			return -EIO;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", schema_count);
	if (store_exec(&st->base, sql) < 0 || (own_txn && store_commit(&st->base) < 0))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "schema migration failed: %s", store_errmsg(&st->base));
	if (own_txn)
		store_rollback(&st->base);
	return -EIO;
}

static const struct store_ops sqlite_ops;

int
store_sqlite_open(const char *path, int busy_timeout_ms, int flags, struct store **out,
		  char *err, size_t errlen)
{
	struct sq_store *st;
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	bool created = false;
	int r;

	/* SQLite counts every allocation under a global mutex unless told not
	 * to, before it is first used: rosterd reads no such figures. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_libversion_number() < 3033000) {
		snprintf(err, errlen, "SQLite %s is too old: 3.33 or newer is needed",
			 sqlite3_libversion());
		return -ENOTSUP;
	}
	if ((flags & STORE_NOCREATE) && access(path, F_OK) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (!(flags & STORE_NOCREATE)) {
		oflags |= SQLITE_OPEN_CREATE;
		if ((r = file_create(path, &created, err, errlen)) < 0)
			return r;
	}
	if ((r = file_not_empty(path, created, err, errlen)) < 0)
		return r;

	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		if (created)
			unlink(path);
		return -ENOMEM;
	}
	st->base.ops = &sqlite_ops;
	st->lock_fd = -1;
	if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "cannot open");
		r = -EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, busy_timeout_ms);
	st->busy_timeout = busy_timeout_ms;
	/* FULL costs one fsync per run (one transaction a run) and keeps the
	 * last run even across a power cut. The caches bound memory: 6 MiB for
	 * the store, which is also what a sort may hold before it spills to a
	 * file, and 4 MiB for the staging tables (temp; SQLite's default is 2).
	 * At 100k people with groups this is 28 MiB peak instead of 32 with
	 * 8 + 2, in the same time. */
	if (store_exec(&st->base, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"
		       "PRAGMA cache_size = -6144; PRAGMA temp.cache_size = -4096;"
		       "PRAGMA temp_store = FILE;"
		       /* a WAL reset by a writer after a full checkpoint is cut back to 4 MiB */
		       "PRAGMA journal_size_limit = 4194304") < 0) {
		/* store_errmsg() names the store */
		snprintf(err, errlen, "%s", store_errmsg(&st->base));
		r = -EIO;
		goto fail;
	}
	/* A no-op on a store that is already in WAL mode. */
	if (store_exec(&st->base, "PRAGMA journal_mode = WAL") < 0) {
		snprintf(err, errlen, "%s: cannot use WAL mode: %s", path, sqlite3_errmsg(st->db));
		r = -EIO;
		goto fail;
	}
	if (flags & STORE_SAMESCHEMA) {
		int v = store_schema_version(&st->base);
		if (v != schema_count) {
			snprintf(err, errlen, "%s: schema version %d, this program knows %d%s", path,
				 v, schema_count, v < schema_count ?
				 " (the next run of rosterd migrates it)" : ": use a newer one");
			r = -EPROTO;
			goto fail;
		}
	} else if (!(flags & STORE_NOMIGRATE)) {
		if ((r = store_migrate(&st->base, err, errlen)) < 0)
			goto fail;
	} else if (store_schema_version(&st->base) > schema_count) {
		snprintf(err, errlen, "%s: schema version %d is newer than this rosterd "
			 "knows (%d)", path, store_schema_version(&st->base), schema_count);
		r = -EPROTO;
		goto fail;
	}
	*out = &st->base;
	return 0;
fail:
	sqlite3_close(st->db);
	free(st);
	/* A file made for this open and not made a store is not left behind. */
	if (created)
		unlink(path);
	return r;
}

static void bulk_end(struct sq_store *st);
static int set_journal(struct sq_store *st, const char *journal_mode);
static int bulk_finish(struct sq_store *st);

static void
sq_close(struct store *base)
{
	struct sq_store *st = SQ(base);

	bulk_end(st);
	if (st->rollback_journal && sqlite3_get_autocommit(st->db))
		set_journal(st, "wal");   /* else at its next open */
	for (size_t b = 0; b < STMT_BUCKETS; b++) {
		struct sq_stmt *n;
		for (struct sq_stmt *s = st->bucket[b]; s != NULL; s = n) {
			n = s->next;
			sqlite3_finalize(s->s);
			free(s);
		}
	}
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close_v2(st->db);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st);
}

static int
sq_begin(struct store *base)
{
	return sq_exec(base, "BEGIN IMMEDIATE");
}

static int
sq_begin_temp(struct store *base)
{
	return sq_exec(base, "BEGIN");
}

static int
sq_commit(struct store *base)
{
	struct sq_store *st = SQ(base);
	int r;

	if (st->bulk && (r = bulk_finish(st)) < 0)
		return r;
	r = sq_exec(base, "COMMIT");
	if (r == 0)
		bulk_end(st);
	return r;
}

static int
sq_rollback(struct store *base)
{
	struct sq_store *st = SQ(base);
	int r = 0;

	if (!sqlite3_get_autocommit(st->db))
		r = sq_exec(base, "ROLLBACK");
	bulk_end(st);
	/* Nothing written: back to WAL mode at once (else at the close). */
	if (st->rollback_journal && sqlite3_get_autocommit(st->db) && set_journal(st, "wal") == 0)
		st->rollback_journal = false;
	return r;
}

static bool
sq_in_txn(struct store *base)
{
	return !sqlite3_get_autocommit(SQ(base)->db);
}

static int
sq_checkpoint(struct store *base)
{
	struct sq_store *st = SQ(base);
	int rc;

	/* After a bulk load that left WAL mode: back to it, with no WAL to copy. */
	if (st->rollback_journal) {
		if (sq_in_txn(base) || set_journal(st, "wal") < 0)
			return -EBUSY;
		st->rollback_journal = false;
		return 0;
	}
	/* Short readers come and go: a few tries find a moment with none. */
	sqlite3_busy_timeout(st->db, CHECKPOINT_WAIT_MS);
	for (int i = 0; i < 4; i++) {
		rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY)
			break;
	}
	sqlite3_busy_timeout(st->db, st->busy_timeout);
	return rc == SQLITE_OK ? 0 : (rc & 0xff) == SQLITE_BUSY ? -EBUSY : -EIO;
}

/* SQLite's writers wait for each other (busy timeout): no conflicts. */
static bool
sq_conflicted(struct store *base)
{
	(void)base;
	return false;
}

/* The run lock: flock() on the store file, for as long as the store is open
 * or until store_unlock(). The service's lock: always had. */
static int
sq_lock(struct store *base, enum store_lock which)
{
	struct sq_store *st = SQ(base);
	const char *path = sqlite3_db_filename(st->db, "main");
	int fd, r;

	if (which != STORE_LOCK_RUN || st->lock_fd >= 0)
		return 0;
	if (path == NULL || path[0] == '\0')
		return 0;   /* ":memory:": a store of one's own */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		close(fd);
		return r == -EWOULDBLOCK ? -EBUSY : r;
	}
	st->lock_fd = fd;
	return 0;
}

static void
sq_unlock(struct store *base, enum store_lock which)
{
	struct sq_store *st = SQ(base);

	if (which == STORE_LOCK_RUN && st->lock_fd >= 0) {
		close(st->lock_fd);
		st->lock_fd = -1;
	}
}

/* A file has no connection to lose. */
static int
sq_ping(struct store *base)
{
	(void)base;
	return 0;
}

/* ---- statements ------------------------------------------------------------ */

static int
sq_prepare(struct store *base, const char *sql, struct stmt **out)
{
	struct sq_store *st = SQ(base);
	size_t len = strlen(sql);
	uint64_t h = store_sql_hash(sql, len);
	struct sq_stmt **head = &st->bucket[h % STMT_BUCKETS], *s;
	int rc;

	for (s = *head; s != NULL; s = s->next)
		if (s->hash == h && !s->in_use && s->len == len && memcmp(s->sql, sql, len) == 0) {
			s->in_use = true;
			*out = &s->base;
			return 0;
		}
	if ((s = calloc(1, sizeof(*s) + len + 1)) == NULL)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(st->db, sql, (int)len, &s->s, NULL);
	if (rc != SQLITE_OK) {
		free(s);
		return errno_of(rc);
	}
	memcpy(s->sql, sql, len + 1);
	s->len = len;
	s->base.st = base;
	s->st = st;
	s->hash = h;
	s->in_use = true;
	if (st->ncached < STMT_CACHE_MAX) {
		s->cached = true;
		s->next = *head;
		*head = s;
		st->ncached++;
	}
	*out = &s->base;
	return 0;
}

static void
sq_reset(struct stmt *base)
{
	struct sq_stmt *s = SQS(base);
	sqlite3_reset(s->s);
	sqlite3_clear_bindings(s->s);
}

static void
sq_done(struct stmt *base)
{
	struct sq_stmt *s = SQS(base);

	if (!s->cached) {
		sqlite3_finalize(s->s);
		free(s);
		return;
	}
	sq_reset(base);
	s->in_use = false;
}

static int
bound(int rc)
{
	return rc == SQLITE_OK ? 0 : rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

static int
sq_bind(struct stmt *base, int i, const struct store_value *v)
{
	sqlite3_stmt *s = SQS(base)->s;
	int n = v->n == (size_t)-1 ? -1 : (int)v->n;

	if (v->n != (size_t)-1 && v->n > INT_MAX)
		return -ENOMEM;
	switch (v->kind) {
	case STORE_BIND_INT:
		return bound(sqlite3_bind_int64(s, i, v->i));
	case STORE_BIND_DOUBLE:
		return bound(sqlite3_bind_double(s, i, v->d));
	case STORE_BIND_TEXT:
		return bound(sqlite3_bind_text(s, i, v->v, n, SQLITE_STATIC));
	case STORE_BIND_TEXT_COPY:
		return bound(sqlite3_bind_text(s, i, v->v, n, SQLITE_TRANSIENT));
	case STORE_BIND_BLOB:
		return bound(sqlite3_bind_blob(s, i, v->v, n, SQLITE_STATIC));
	default:
		return bound(sqlite3_bind_null(s, i));
	}
}

static int
sq_param(struct stmt *base, const char *name)
{
	struct sq_stmt *s = SQS(base);
	return sqlite3_bind_parameter_index(s->s, name);
}

static int
sq_step(struct stmt *base)
{
	struct sq_stmt *s = SQS(base);
	int rc = sqlite3_step(s->s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	/* the extended code of the failed step, as sqlite3_reset returns it */
	return errno_of(sqlite3_extended_errcode(s->st->db));
}

static long long
sq_run(struct stmt *base)
{
	struct sq_stmt *s = SQS(base);
	int r;

	while ((r = sq_step(base)) == 1)
		;
	return r < 0 ? r : sqlite3_changes(s->st->db);
}

static int
sq_columns(struct stmt *base)
{
	struct sq_stmt *s = SQS(base);
	return sqlite3_column_count(s->s);
}

static const char *
sq_column_name(struct stmt *base, int i)
{
	struct sq_stmt *s = SQS(base);
	return sqlite3_column_name(s->s, i);
}

static enum store_type
sq_type(struct stmt *base, int i)
{
	struct sq_stmt *s = SQS(base);
	switch (sqlite3_column_type(s->s, i)) {
	case SQLITE_INTEGER:
		return STORE_INT;
	case SQLITE_FLOAT:
		return STORE_FLOAT;
	case SQLITE_TEXT:
		return STORE_TEXT;
	case SQLITE_BLOB:
		return STORE_BLOB;
	default:
		return STORE_NULL;
	}
}

static int64_t
sq_int(struct stmt *base, int i)
{
	struct sq_stmt *s = SQS(base);
	return sqlite3_column_int64(s->s, i);
}

static double
sq_double(struct stmt *base, int i)
{
	struct sq_stmt *s = SQS(base);
	return sqlite3_column_double(s->s, i);
}

static const char *
sq_text(struct stmt *base, int i)
{
	struct sq_stmt *s = SQS(base);
	return (const char *)sqlite3_column_text(s->s, i);
}

static const void *
sq_blob(struct stmt *base, int i)
{
	struct sq_stmt *s = SQS(base);
	return sqlite3_column_blob(s->s, i);
}

static size_t
sq_bytes(struct stmt *base, int i)
{
	struct sq_stmt *s = SQS(base);
	return (size_t)sqlite3_column_bytes(s->s, i);
}

/* ---- functions the SQL calls ------------------------------------------------ */

struct predicate {
	store_predicate_fn fn;
	void *arg;
};

static void
call_predicate(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct predicate *p = sqlite3_user_data(ctx);
	const char *t = (const char *)sqlite3_value_text(argv[0]);

	(void)argc;
	sqlite3_result_int(ctx, t != NULL &&
			   p->fn(p->arg, t, (size_t)sqlite3_value_bytes(argv[0])));
}

static int
sq_define_predicate(struct store *base, const char *name, store_predicate_fn fn, void *arg,
		    const char *domain, enum store_outside outside)
{
	struct sq_store *st = SQ(base);
	struct predicate *p = NULL;
	int rc;

	(void)domain;   /* SQLite calls fn on whatever the SQL asks */
	(void)outside;
	if (fn != NULL) {
		if ((p = malloc(sizeof(*p))) == NULL)
			return -ENOMEM;
		p->fn = fn;
		p->arg = arg;
	}
	/* SQLite frees p when the definition is replaced or removed, when the
	 * connection closes, and when this call fails. */
	rc = sqlite3_create_function_v2(st->db, name, 1, SQLITE_UTF8, p,
					fn ? call_predicate : NULL, NULL, NULL, free);
	return rc == SQLITE_OK ? 0 : errno_of(rc);
}

/* ---- bulk loads ------------------------------------------------------------- */

/* The journal mode is journal_mode ("wal", "delete"): 0 when it is now, else
 * -EBUSY (another connection has the store open, or none could be had). */
static int
set_journal(struct sq_store *st, const char *journal_mode)
{
	char sql[64];
	sqlite3_stmt *s = NULL;
	int r = -EBUSY;

	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = %s", journal_mode);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(s, 0), journal_mode) == 0)
		r = 0;
	sqlite3_finalize(s);
	return r;
}

/* End a bulk load: references are checked row by row again. (The store
 * goes back to WAL mode at the checkpoint after the commit, or when it is
 * closed: the commit's own steps stay the commit's.) */
static void
bulk_end(struct sq_store *st)
{
	for (size_t i = 0; i < st->ndown; i++) {
		free(st->down[i].name);
		free(st->down[i].table);
		free(st->down[i].sql);
	}
	free(st->down);
	st->down = NULL;
	st->ndown = 0;
	st->note[0] = '\0';
	if (st->bulk && sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	st->bulk = false;
}

/* Keep the index name of table, made by sql, to build again: 0 or -ENOMEM. */
static int
bulk_keep(struct sq_store *st, const char *name, const char *table, const char *sql)
{
	struct bulk_index *d = realloc(st->down, (st->ndown + 1) * sizeof(*d)), *x;

	if (d == NULL)
		return -ENOMEM;
	st->down = d;
	x = &d[st->ndown];
	*x = (struct bulk_index){ .name = strdup(name), .table = strdup(table),
				  .sql = strdup(sql) };
	st->ndown++;
	return x->name && x->table && x->sql ? 0 : -ENOMEM;
}

/* Take down the index name, keeping how to build it again: 0, -ENOENT when
 * the store has no such index, or another negative errno. */
static int
bulk_take_down(struct sq_store *st, const char *name)
{
	sqlite3_stmt *s = NULL;
	char *sql;
	int rc, r;

	rc = sqlite3_prepare_v2(st->db, "SELECT tbl_name, sql FROM sqlite_schema "
				"WHERE type = 'index' AND name = ?1 AND sql IS NOT NULL", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return errno_of(rc);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		r = bulk_keep(st, name, (const char *)sqlite3_column_text(s, 0),
			      (const char *)sqlite3_column_text(s, 1));
	else
		r = rc == SQLITE_DONE ? -ENOENT : errno_of(rc);
	sqlite3_finalize(s);
	if (r < 0)
		return r;
	if ((sql = sqlite3_mprintf("DROP INDEX \"%w\"", name)) == NULL)
		return -ENOMEM;
	r = sq_exec(&st->base, sql);
	sqlite3_free(sql);
	return r;
}

static int
sq_bulk_begin(struct store *base, const char *const *indexes)
{
	struct sq_store *st = SQ(base);
	int r;

	if (sq_in_txn(&st->base) || st->bulk)
		return -EINVAL;
	/* A no-op inside a transaction: set before it begins. */
	if ((r = sq_exec(&st->base, "PRAGMA foreign_keys = OFF")) < 0)
		return r;
	/* With nobody else connected, a rollback journal: the pages are written
	 * once, into the store file, where WAL would write them to the WAL and
	 * copy them at the checkpoint (the journal keeps only the few pages the
	 * store had); a crash before the commit is rolled back at the next open
	 * as ever. Readers that come meanwhile wait for the commit. */
	st->rollback_journal = set_journal(st, "delete") == 0;
	st->bulk = true;
	if ((r = sq_begin(&st->base)) < 0) {
		bulk_end(st);
		return r;
	}
	for (size_t i = 0; indexes[i] != NULL && r == 0; i++)
		r = bulk_take_down(st, indexes[i]);
	return r;
}

static int
sq_bulk_index(struct store *base, const char *table)
{
	struct sq_store *st = SQ(base);

	for (size_t i = 0; i < st->ndown; i++) {
		struct bulk_index *d = &st->down[i];
		int r;

		if (d->built || (table != NULL && strcmp(d->table, table) != 0))
			continue;
		if ((r = sq_exec(&st->base, d->sql)) < 0)
			return r;
		d->built = true;
	}
	return 0;
}

static bool
sq_in_bulk(struct store *base)
{
	return SQ(base)->bulk;
}

/* Run sql (an sqlite3_mprintf() text, freed here, NULL when it could not
 * be made): 1 with its first row in *out (the caller finalizes it), 0 when
 * it has none, or a negative errno. */
static int
first_row(struct sq_store *st, char *sql, sqlite3_stmt **out)
{
	int rc;

	if (sql == NULL)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(st->db, sql, -1, out, NULL);
	sqlite3_free(sql);
	if (rc == SQLITE_OK && (rc = sqlite3_step(*out)) == SQLITE_ROW)
		return 1;
	sqlite3_finalize(*out);
	*out = NULL;
	return rc == SQLITE_DONE ? 0 : errno_of(rc);
}

/* When pcol is parent's integer primary key and its rows have every id
 * from *lo to *hi (a table rows were only added to, as in a first load):
 * 1; 0 otherwise; or a negative errno. */
static int
dense_key(struct sq_store *st, const char *parent, const char *pcol, long long *lo,
	  long long *hi)
{
	sqlite3_stmt *s;
	int r = first_row(st, sqlite3_mprintf("SELECT (SELECT count(*) FROM "
					       "pragma_table_info('%q') WHERE pk > 0), (SELECT pk = 1 AND "
					       "upper(type) = 'INTEGER' FROM pragma_table_info('%q') WHERE "
					       "name = '%q'), min(\"%w\"), max(\"%w\"), count(*) FROM \"%w\"",
					       parent, parent, pcol, pcol, pcol, parent), &s);

	if (r == 1) {
		*lo = sqlite3_column_int64(s, 2);
		*hi = sqlite3_column_int64(s, 3);
		r = sqlite3_column_int(s, 0) == 1 && sqlite3_column_int(s, 1) == 1 &&
		    sqlite3_column_type(s, 2) == SQLITE_INTEGER &&
		    sqlite3_column_int64(s, 4) == *hi - *lo + 1;
		sqlite3_finalize(s);
	}
	return r;
}

/* The first value of child.col that no row of parent has in pcol, in
 * st->note: -EIO; 0 when there is none. Against a dense integer key
 * (dense_key), a value refers to a row when it is an integer from the
 * first id to the last: one pass over the column, no lookup. Otherwise the
 * column's values are read once each, in order (through its index when it
 * has one, else sorted first), so that the parent's rows are looked up in
 * order too, not once a row at random as foreign_key_check() does. */
static int
check_column(struct sq_store *st, const char *child, const char *col, const char *parent,
	     const char *pcol)
{
	long long lo = 0, hi = 0;
	sqlite3_stmt *s;
	int r = dense_key(st, parent, pcol, &lo, &hi);

	if (r == 1)
		r = first_row(st, sqlite3_mprintf("SELECT \"%w\" FROM \"%w\" WHERE \"%w\" IS NOT "
						   "NULL AND NOT (\"%w\" = CAST(\"%w\" AS INTEGER) AND "
						   "\"%w\" BETWEEN %lld AND %lld) LIMIT 1", col, child,
						   col, col, col, col, lo, hi), &s);
	else if (r == 0)
		r = first_row(st, sqlite3_mprintf("SELECT v FROM (SELECT \"%w\" AS v FROM \"%w\" "
						   "WHERE \"%w\" IS NOT NULL GROUP BY \"%w\") WHERE "
						   "NOT EXISTS (SELECT 1 FROM \"%w\" WHERE \"%w\" = v) "
						   "LIMIT 1", col, child, col, col, parent, pcol), &s);
	if (r == 1) {
		snprintf(st->note, sizeof(st->note), "%s.%s %s refers to no row of %s: nothing of "
			 "this run is written", child, col, (const char *)sqlite3_column_text(s, 0),
			 parent);
		sqlite3_finalize(s);
		r = -EIO;
	}
	return r;
}

/* The first row of table whose reference points nowhere, as SQLite's own
 * check finds it, in st->note: -EIO; 0 when there is none. */
static int
check_table(struct sq_store *st, const char *table)
{
	sqlite3_stmt *s;
	int r = first_row(st, sqlite3_mprintf("PRAGMA foreign_key_check(\"%w\")", table), &s);

	if (r == 1) {
		snprintf(st->note, sizeof(st->note), "%s row %lld refers to a row of %s that "
			 "does not exist: nothing of this run is written", table,
			 (long long)sqlite3_column_int64(s, 1), (const char *)sqlite3_column_text(s, 2));
		sqlite3_finalize(s);
		r = -EIO;
	}
	return r;
}

/* Before a bulk load commits: its indexes built again, and every reference
 * of the store checked: each foreign key of one column by its distinct
 * values (check_column), any other by SQLite's own check of its table. */
static int
bulk_finish(struct sq_store *st)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if ((r = sq_bulk_index(&st->base, NULL)) < 0)
		return r;
	rc = sqlite3_prepare_v2(st->db, "SELECT m.name, f.\"from\", f.\"table\", f.\"to\", "
				"(SELECT count(*) FROM pragma_foreign_key_list(m.name) k "
				" WHERE k.id = f.id) FROM sqlite_schema m, "
				"pragma_foreign_key_list(m.name) f WHERE m.type = 'table' "
				"ORDER BY m.name, f.id, f.seq", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return errno_of(rc);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *table = (const char *)sqlite3_column_text(s, 0);

		if (sqlite3_column_int(s, 4) == 1 && sqlite3_column_type(s, 3) != SQLITE_NULL)
			r = check_column(st, table, (const char *)sqlite3_column_text(s, 1),
					 (const char *)sqlite3_column_text(s, 2),
					 (const char *)sqlite3_column_text(s, 3));
		else
			r = check_table(st, table);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = errno_of(rc);
	sqlite3_finalize(s);
	return r;
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.migrate = sq_migrate,
	.schema_version = sq_schema_version,
	.errmsg = sq_errmsg,
	.exec = sq_exec,
	.changes = sq_changes,
	.last_id = sq_last_id,
	.total_changes = sq_total_changes,
	.begin = sq_begin,
	.begin_temp = sq_begin_temp,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.in_txn = sq_in_txn,
	.conflicted = sq_conflicted,
	.bulk_begin = sq_bulk_begin,
	.bulk_index = sq_bulk_index,
	.in_bulk = sq_in_bulk,
	.checkpoint = sq_checkpoint,
	.lock = sq_lock,
	.unlock = sq_unlock,
	.ping = sq_ping,
	.prepare = sq_prepare,
	.done = sq_done,
	.reset = sq_reset,
	.bind = sq_bind,
	.param = sq_param,
	.step = sq_step,
	.run = sq_run,
	.columns = sq_columns,
	.column_name = sq_column_name,
	.type = sq_type,
	.col_int = sq_int,
	.col_double = sq_double,
	.col_text = sq_text,
	.col_blob = sq_blob,
	.col_bytes = sq_bytes,
	.define_predicate = sq_define_predicate,
};
