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
#include "store.h"

#include <errno.h>
#include <libgen.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* Statements are cached by their text in a small hash table; one in use
 * when its text is asked for again gets a twin that is not cached. */
#define STMT_BUCKETS 256
#define STMT_CACHE_MAX 512

struct stmt {
	sqlite3_stmt *s;
	struct store *st;
	struct stmt *next;      /* in its bucket */
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

struct store {
	sqlite3 *db;
	int busy_timeout;   /* ms */
	size_t ncached;
	struct stmt *bucket[STMT_BUCKETS];
	bool bulk;                  /* a bulk load is under way */
	bool rollback_journal;      /* it left WAL mode for a rollback journal */
	struct bulk_index *down;    /* the indexes it took down */
	size_t ndown;
	char note[512];             /* a failure of the driver's own; "" none */
	char errbuf[1024];
};

/* How long the checkpoint after a run may wait for readers to leave the WAL;
 * the platform's writers wait as long (they need the write lock it holds). */
#define CHECKPOINT_WAIT_MS 250

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

const char *
store_errmsg(struct store *st)
{
	const char *path = sqlite3_db_filename(st->db, "main");
	const char *msg = st->note[0] != '\0' ? st->note : sqlite3_errmsg(st->db);

	if (path == NULL || path[0] == '\0')
		return msg;
	snprintf(st->errbuf, sizeof(st->errbuf), "%s: %s", path, msg);
	return st->errbuf;
}

int
store_latest_version(void)
{
	return schema_count;
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

int
store_exec(struct store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : errno_of(rc);
}

long long
store_changes(struct store *st)
{
	return sqlite3_changes(st->db);
}

long long
store_last_id(struct store *st)
{
	return sqlite3_last_insert_rowid(st->db);
}

long long
store_total_changes(struct store *st)
{
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

int
store_schema_version(struct store *st)
{
	int v = -1;

	user_version(st->db, &v);
	return v;
}

int
store_migrate(struct store *st, char *err, size_t errlen)
{
	bool own_txn = !store_in_txn(st);
	char sql[64];
	int v, r;

	if (user_version(st->db, &v) < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s", store_errmsg(st));
		return -EIO;
	}
	if (v > schema_count) {
		snprintf(err, errlen, "the store has schema version %d, newer than this rosterd "
			 "knows (%d): use a newer rosterd", v, schema_count);
		return -EPROTO;
	}
	if (v == schema_count)
		return 0;
	if (own_txn && (r = store_begin(st)) < 0) {
		snprintf(err, errlen, "cannot lock the store to migrate it: %s", store_errmsg(st));
		return r;
	}
	/* Another process may have migrated it while we waited for the lock. */
	if (user_version(st->db, &v) < 0)
		goto fail;
	for (int i = v; i < schema_count; i++) {
		char *msg = NULL;
		if (sqlite3_exec(st->db, schema_migrations[i], NULL, NULL, &msg) != SQLITE_OK) {
			snprintf(err, errlen, "schema migration %03d failed: %s", i + 1,
				 msg ? msg : store_errmsg(st));
			sqlite3_free(msg);
			if (own_txn)
				store_rollback(st);
			return -EIO;
		}
		/* 006 adds the usernames' keys, which only C computes */
		if (i + 1 == 6 && store_username_keys(st) < 0) {
			snprintf(err, errlen, "schema migration 006 failed: %s", store_errmsg(st));
			if (own_txn)
				store_rollback(st);
			return -EIO;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", schema_count);
	if (store_exec(st, sql) < 0 || (own_txn && store_commit(st) < 0))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "schema migration failed: %s", store_errmsg(st));
	if (own_txn)
		store_rollback(st);
	return -EIO;
}

int
store_open(const char *path, int busy_timeout_ms, int flags, struct store **out,
	   char *err, size_t errlen)
{
	struct store *st;
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
	if (store_exec(st, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"
		       "PRAGMA cache_size = -6144; PRAGMA temp.cache_size = -4096;"
		       "PRAGMA temp_store = FILE;"
		       /* a WAL reset by a writer after a full checkpoint is cut back to 4 MiB */
		       "PRAGMA journal_size_limit = 4194304") < 0) {
		/* store_errmsg() names the store */
		snprintf(err, errlen, "%s", store_errmsg(st));
		r = -EIO;
		goto fail;
	}
	/* A no-op on a store that is already in WAL mode. */
	if (store_exec(st, "PRAGMA journal_mode = WAL") < 0) {
		snprintf(err, errlen, "%s: cannot use WAL mode: %s", path, sqlite3_errmsg(st->db));
		r = -EIO;
		goto fail;
	}
	if (flags & STORE_SAMESCHEMA) {
		int v = store_schema_version(st);
		if (v != schema_count) {
			snprintf(err, errlen, "%s: schema version %d, this program knows %d%s", path,
				 v, schema_count, v < schema_count ?
				 " (the next run of rosterd migrates it)" : ": use a newer one");
			r = -EPROTO;
			goto fail;
		}
	} else if (!(flags & STORE_NOMIGRATE)) {
		if ((r = store_migrate(st, err, errlen)) < 0)
			goto fail;
	} else if (store_schema_version(st) > schema_count) {
		snprintf(err, errlen, "%s: schema version %d is newer than this rosterd "
			 "knows (%d)", path, store_schema_version(st), schema_count);
		r = -EPROTO;
		goto fail;
	}
	*out = st;
	return 0;
fail:
	sqlite3_close(st->db);
	free(st);
	/* A file made for this open and not made a store is not left behind. */
	if (created)
		unlink(path);
	return r;
}

static void bulk_end(struct store *st);
static int set_journal(struct store *st, const char *journal_mode);

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	bulk_end(st);
	if (st->rollback_journal && sqlite3_get_autocommit(st->db))
		set_journal(st, "wal");   /* else at its next open */
	for (size_t b = 0; b < STMT_BUCKETS; b++) {
		struct stmt *n;
		for (struct stmt *s = st->bucket[b]; s != NULL; s = n) {
			n = s->next;
			sqlite3_finalize(s->s);
			free(s);
		}
	}
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close_v2(st->db);
	free(st);
}

int
store_begin(struct store *st)
{
	return store_exec(st, "BEGIN IMMEDIATE");
}

int
store_begin_temp(struct store *st)
{
	return store_exec(st, "BEGIN");
}

static int bulk_finish(struct store *st);

int
store_commit(struct store *st)
{
	int r;

	if (st->bulk && (r = bulk_finish(st)) < 0)
		return r;
	r = store_exec(st, "COMMIT");
	if (r == 0)
		bulk_end(st);
	return r;
}

int
store_rollback(struct store *st)
{
	int r = 0;

	if (!sqlite3_get_autocommit(st->db))
		r = store_exec(st, "ROLLBACK");
	bulk_end(st);
	/* Nothing written: back to WAL mode at once (else at the close). */
	if (st->rollback_journal && sqlite3_get_autocommit(st->db) && set_journal(st, "wal") == 0)
		st->rollback_journal = false;
	return r;
}

int
store_checkpoint(struct store *st)
{
	int rc;

	/* After a bulk load that left WAL mode: back to it, with no WAL to copy. */
	if (st->rollback_journal) {
		if (store_in_txn(st) || set_journal(st, "wal") < 0)
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

bool
store_in_txn(struct store *st)
{
	return !sqlite3_get_autocommit(st->db);
}


/* ---- bulk loads ------------------------------------------------------------- */

/* The journal mode is journal_mode ("wal", "delete"): 0 when it is now, else
 * -EBUSY (another connection has the store open, or none could be had). */
static int
set_journal(struct store *st, const char *journal_mode)
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
bulk_end(struct store *st)
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
bulk_keep(struct store *st, const char *name, const char *table, const char *sql)
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
bulk_take_down(struct store *st, const char *name)
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
	r = store_exec(st, sql);
	sqlite3_free(sql);
	return r;
}

int
store_bulk_begin(struct store *st, const char *const *indexes)
{
	int r;

	if (store_in_txn(st) || st->bulk)
		return -EINVAL;
	/* A no-op inside a transaction: set before it begins. */
	if ((r = store_exec(st, "PRAGMA foreign_keys = OFF")) < 0)
		return r;
	/* With nobody else connected, a rollback journal: the pages are written
	 * once, into the store file, where WAL would write them to the WAL and
	 * copy them at the checkpoint (the journal keeps only the few pages the
	 * store had); a crash before the commit is rolled back at the next open
	 * as ever. Readers that come meanwhile wait for the commit. */
	st->rollback_journal = set_journal(st, "delete") == 0;
	st->bulk = true;
	if ((r = store_begin(st)) < 0) {
		bulk_end(st);
		return r;
	}
	for (size_t i = 0; indexes[i] != NULL && r == 0; i++)
		r = bulk_take_down(st, indexes[i]);
	return r;
}

int
store_bulk_index(struct store *st, const char *table)
{
	for (size_t i = 0; i < st->ndown; i++) {
		struct bulk_index *d = &st->down[i];
		int r;

		if (d->built || (table != NULL && strcmp(d->table, table) != 0))
			continue;
		if ((r = store_exec(st, d->sql)) < 0)
			return r;
		d->built = true;
	}
	return 0;
}

bool
store_in_bulk(struct store *st)
{
	return st->bulk;
}

/* Run sql (an sqlite3_mprintf() text, freed here, NULL when it could not
 * be made): 1 with its first row in *out (the caller finalizes it), 0 when
 * it has none, or a negative errno. */
static int
first_row(struct store *st, char *sql, sqlite3_stmt **out)
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
dense_key(struct store *st, const char *parent, const char *pcol, long long *lo,
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
check_column(struct store *st, const char *child, const char *col, const char *parent,
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
check_table(struct store *st, const char *table)
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
bulk_finish(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if ((r = store_bulk_index(st, NULL)) < 0)
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

/* ---- savepoints ------------------------------------------------------------ */

static int
exec_named(struct store *st, const char *verb, const char *name)
{
	char sql[128];
	int n = snprintf(sql, sizeof(sql), "%s %s", verb, name);

	if (n < 0 || (size_t)n >= sizeof(sql))
		return -ENAMETOOLONG;
	for (const char *p = name; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (p > name && *p >= '0' && *p <= '9')))
			return -EINVAL;
	return store_exec(st, sql);
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

/* ---- statements ------------------------------------------------------------ */

/* The cache's hash of a statement's text: its length and up to 32 bytes at
 * each end, so that finding a statement costs the same for any length (the
 * plugin host asks for its person view, 900 bytes, once an event). Texts
 * with the same hash are told apart by memcmp. */
static uint64_t
sql_hash(const char *sql, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ len;
	size_t head = len < 32 ? len : 32, tail = len - head < 32 ? len - head : 32;

	for (size_t i = 0; i < head; i++)
		h = (h ^ (unsigned char)sql[i]) * 0x100000001b3ULL;
	for (size_t i = len - tail; i < len; i++)
		h = (h ^ (unsigned char)sql[i]) * 0x100000001b3ULL;
	return h;
}

int
store_prepare(struct store *st, const char *sql, struct stmt **out)
{
	size_t len = strlen(sql);
	uint64_t h = sql_hash(sql, len);
	struct stmt **head = &st->bucket[h % STMT_BUCKETS], *s;
	int rc;

	for (s = *head; s != NULL; s = s->next)
		if (s->hash == h && !s->in_use && s->len == len && memcmp(s->sql, sql, len) == 0) {
			s->in_use = true;
			*out = s;
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
	s->st = st;
	s->hash = h;
	s->in_use = true;
	if (st->ncached < STMT_CACHE_MAX) {
		s->cached = true;
		s->next = *head;
		*head = s;
		st->ncached++;
	}
	*out = s;
	return 0;
}

void
stmt_reset(struct stmt *s)
{
	sqlite3_reset(s->s);
	sqlite3_clear_bindings(s->s);
}

void
stmt_done(struct stmt *s)
{
	if (s == NULL)
		return;
	if (!s->cached) {
		sqlite3_finalize(s->s);
		free(s);
		return;
	}
	stmt_reset(s);
	s->in_use = false;
}

static int
bound(int rc)
{
	return rc == SQLITE_OK ? 0 : rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

int
stmt_bind_text(struct stmt *s, int i, const char *v)
{
	return bound(sqlite3_bind_text(s->s, i, v, -1, SQLITE_STATIC));
}

int
stmt_bind_textn(struct stmt *s, int i, const char *v, size_t n)
{
	return bound(sqlite3_bind_text64(s->s, i, v, n, SQLITE_STATIC, SQLITE_UTF8));
}

int
stmt_bind_text_copy(struct stmt *s, int i, const char *v)
{
	return bound(sqlite3_bind_text(s->s, i, v, -1, SQLITE_TRANSIENT));
}

int
stmt_bind_blob(struct stmt *s, int i, const void *v, size_t n)
{
	return bound(sqlite3_bind_blob64(s->s, i, v, n, SQLITE_STATIC));
}

int
stmt_bind_int(struct stmt *s, int i, int64_t v)
{
	return bound(sqlite3_bind_int64(s->s, i, v));
}

int
stmt_bind_double(struct stmt *s, int i, double v)
{
	return bound(sqlite3_bind_double(s->s, i, v));
}

int
stmt_bind_null(struct stmt *s, int i)
{
	return bound(sqlite3_bind_null(s->s, i));
}

int
stmt_param(struct stmt *s, const char *name)
{
	return sqlite3_bind_parameter_index(s->s, name);
}

int
stmt_step(struct stmt *s)
{
	int rc = sqlite3_step(s->s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	/* the extended code of the failed step, as sqlite3_reset returns it */
	return errno_of(sqlite3_extended_errcode(s->st->db));
}

long long
stmt_run(struct stmt *s)
{
	int r;

	while ((r = stmt_step(s)) == 1)
		;
	return r < 0 ? r : sqlite3_changes(s->st->db);
}

int
stmt_columns(struct stmt *s)
{
	return sqlite3_column_count(s->s);
}

const char *
stmt_column_name(struct stmt *s, int i)
{
	return sqlite3_column_name(s->s, i);
}

enum store_type
stmt_type(struct stmt *s, int i)
{
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

int64_t
stmt_int(struct stmt *s, int i)
{
	return sqlite3_column_int64(s->s, i);
}

double
stmt_double(struct stmt *s, int i)
{
	return sqlite3_column_double(s->s, i);
}

const char *
stmt_text(struct stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s->s, i);
}

const void *
stmt_blob(struct stmt *s, int i)
{
	return sqlite3_column_blob(s->s, i);
}

size_t
stmt_bytes(struct stmt *s, int i)
{
	return (size_t)sqlite3_column_bytes(s->s, i);
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

int
store_define_predicate(struct store *st, const char *name, store_predicate_fn fn, void *arg)
{
	struct predicate *p = NULL;
	int rc;

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
