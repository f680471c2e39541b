/*
 * store_pg.c: the PostgreSQL driver of the store API (store.h), and the only
 * file that calls libpq. rosterd's tables live in one schema of a database
 * the learning platform also uses (store.schema, the connection's
 * search_path); the migrations are the PostgreSQL forms of schema/pg/,
 * recorded in its table schema_migrations. It logs nothing.
 *
 * The modules' SQL is SQLite's dialect: store_pg_sql.c rewrites each text
 * as it is first prepared, and the temporary tables' DDL of schema/temp_*.sql
 * is run in its PostgreSQL form (schema_pg_forms). Statements are prepared
 * on the server at their first run, with the types of the values bound then,
 * and cached by their text. Rows come one at a time (libpq's single-row
 * mode), so a large result costs no more memory than a row; when another
 * statement needs the connection before one has been read to its end, the
 * rest of its rows are read into memory first (the plugin host reads the
 * run's events while it writes).
 *
 * Transactions: store_begin() is REPEATABLE READ after an exclusive lock on
 * schema_migrations, which only rosterd's writers take: rosterd's own
 * writers (a run, rosterctl) go one at a time as on SQLite, the platform's
 * readers and writers are never blocked by it, and a run sees one snapshot.
 * A row the platform changed under a run is a serialization failure:
 * -EDEADLK, the run is done again. store_begin_temp() is READ COMMITTED
 * (staging writes temporary tables only). The run lock and the service's
 * lock are session advisory locks, which the server gives up when the
 * connection ends, however it ends.
 */
#include "schema.h"
#include "store_driver.h"
#include "store_pg_sql.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STMT_BUCKETS 256
#define STMT_CACHE_MAX 512
#define MAX_PREDS PG_SQL_MAX_PREDS

/* PostgreSQL's type oids the driver tells apart (catalog/pg_type.h). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700

struct pg_pred {
	char *name;
	store_predicate_fn fn;
	void *arg;
	char *domain;
	enum store_outside outside;
	bool ready;     /* the answers are in pg_temp.rosterd_pred_NAME */
};

/* Rows read ahead of the caller: each a block of ncols (length, bytes) with
 * length -1 for NULL, in one array. */
struct rows {
	char **row;
	size_t n, cap, next;
};

struct pg_stmt {
	struct stmt base;
	struct pg_store *st;
	struct pg_stmt *next;       /* in its bucket */
	uint64_t hash;
	bool in_use, cached;
	char *sql;                  /* as the module gave it (the cache's key) */
	struct pg_sql q;            /* the PostgreSQL form */
	char *copy;                 /* "COPY pg_temp.t (cols) FROM STDIN" when the
				     * statement may be staged by COPY, else NULL */
	int copy_ok;                /* -1 not known yet, 0 no (a unique index), 1 yes */
	char name[24];              /* the server's prepared statement, "" none yet */
	Oid *types;                 /* its parameters' types as prepared */
	/* the values bound */
	struct store_value *vals;
	char **copies;              /* what the driver owns of them */
	/* the run in progress */
	bool running, done, buffered;
	PGresult *res;              /* the row now, or the last result */
	const char *const *brow;    /* buffered: the row now */
	struct rows rows;
	int ncols;
	char **colnames;
	Oid *coltypes;
	long long changes;
	char *blob;                 /* stmt_blob's bytes of the row now */
	size_t bloblen;
	int blobcol;
};

struct pg_store {
	struct store base;
	PGconn *conn;
	char *where;                /* the URL without a password, for messages */
	struct pg_stmt *streaming;  /* whose rows the connection is sending */
	struct pg_stmt *copying;    /* whose rows a COPY is taking */
	char *cbuf;                 /* rows for it not sent yet */
	size_t clen, ccap;
	long long changes, total;
	long long analyzed;         /* total at the last ANALYZE (pg_checkpoint) */
	unsigned nstmt;
	size_t ncached;
	struct pg_stmt *bucket[STMT_BUCKETS];
	struct pg_pred preds[MAX_PREDS];
	size_t npreds;
	bool held[2];               /* the advisory locks this session has */
	bool conflicted;            /* the transaction lost to another writer */
	bool have_migrations;       /* the table schema_migrations is there */
	char errbuf[1024];
};

#define PG(base) ((struct pg_store *)(void *)(base))
#define PGS(base) ((struct pg_stmt *)(void *)(base))

static const struct store_ops pg_ops;
static void pg_close(struct store *base);
static void pg_unlock(struct store *base, enum store_lock which);
static int have_migrations(struct pg_store *st);

/* ---- errors ------------------------------------------------------------------ */

/* The store's error: "WHERE: message" (its first line). */
static void
set_err(struct pg_store *st, const char *msg)
{
	snprintf(st->errbuf, sizeof(st->errbuf), "%s: %.*s", st->where, (int)strcspn(msg, "\n"),
		 msg);
}

/* The store API's error for a failed result (NULL: the connection's). */
static int
fail(struct pg_store *st, const PGresult *res)
{
	const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	set_err(st, primary ? primary : res ? PQresultErrorMessage(res) : PQerrorMessage(st->conn));
	if (PQstatus(st->conn) == CONNECTION_BAD)
		return -ECONNRESET;
	if (code == NULL)
		return -EIO;
	if (strcmp(code, "23505") == 0)
		return -EEXIST;
	if (strcmp(code, "40001") == 0 || strcmp(code, "40P01") == 0) {
		st->conflicted = true;
		return -EDEADLK;
	}
	if (strcmp(code, "55P03") == 0 || strcmp(code, "57014") == 0)
		return -EBUSY;
	if (strncmp(code, "08", 2) == 0 || strncmp(code, "57P", 3) == 0)
		return -ECONNRESET;
	return strcmp(code, "53200") == 0 ? -ENOMEM : -EIO;
}

static const char *
pg_errmsg(struct store *base)
{
	return PG(base)->errbuf;
}

/* ---- rows read ahead ---------------------------------------------------------- */

static void
rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->row[i]);
	free(r->row);
	memset(r, 0, sizeof(*r));
}

/* Copy the row of res (one row) into r: 0 or -ENOMEM. */
static int
rows_add(struct rows *r, const PGresult *res)
{
	int nf = PQnfields(res);
	size_t size = 0, off;
	char *b;

	for (int i = 0; i < nf; i++)
		size += sizeof(int) + (size_t)PQgetlength(res, 0, i) + 1;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		char **n = realloc(r->row, cap * sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		r->row = n;
		r->cap = cap;
	}
	if ((b = malloc(size + 1)) == NULL)
		return -ENOMEM;
	off = 0;
	for (int i = 0; i < nf; i++) {
		int len = PQgetisnull(res, 0, i) ? -1 : PQgetlength(res, 0, i);
		memcpy(b + off, &len, sizeof(len));
		off += sizeof(len);
		if (len >= 0)
			memcpy(b + off, PQgetvalue(res, 0, i), (size_t)len);
		b[off + (len > 0 ? (size_t)len : 0)] = '\0';
		off += (len > 0 ? (size_t)len : 0) + 1;
	}
	r->row[r->n++] = b;
	return 0;
}

/* Column i of a row read ahead: its text (NULL for NULL) and length. */
static const char *
rows_value(const char *row, int i, int *len)
{
	const char *p = row;

	for (int k = 0;; k++) {
		int l;
		memcpy(&l, p, sizeof(l));
		p += sizeof(l);
		if (k == i) {
			*len = l;
			return l < 0 ? NULL : p;
		}
		p += (l > 0 ? (size_t)l : 0) + 1;
	}
}

/* ---- running statements ---------------------------------------------------------- */

static void
clear_result(struct pg_stmt *s)
{
	PQclear(s->res);
	s->res = NULL;
	free(s->blob);
	s->blob = NULL;
	s->blobcol = -1;
}

/* Keep the columns' names and types of res. */
static int
keep_columns(struct pg_stmt *s, const PGresult *res)
{
	int n = PQnfields(res);

	if (s->colnames != NULL)
		return 0;
	if ((s->colnames = calloc((size_t)n + 1, sizeof(*s->colnames))) == NULL ||
	    (s->coltypes = calloc((size_t)n + 1, sizeof(*s->coltypes))) == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		if ((s->colnames[i] = strdup(PQfname(res, i))) == NULL)
			return -ENOMEM;
		s->coltypes[i] = PQftype(res, i);
	}
	s->ncols = n;
	return 0;
}

/* Read the rest of the streaming statement's results: rows into its
 * buffer (or away, when discard), its end. 0 or a negative errno. */
static int
finish_stream(struct pg_store *st, bool discard)
{
	struct pg_stmt *s = st->streaming;
	PGresult *res;
	int r = 0;

	if (s == NULL)
		return 0;
	st->streaming = NULL;
	while ((res = PQgetResult(st->conn)) != NULL) {
		ExecStatusType e = PQresultStatus(res);
		if (e == PGRES_SINGLE_TUPLE && !discard && r == 0)
			r = rows_add(&s->rows, res);
		else if (e == PGRES_FATAL_ERROR && r == 0)
			r = fail(st, res);
		PQclear(res);
	}
	if (!discard)
		s->buffered = true;
	return r;
}

static int copy_end(struct pg_store *st, bool discard);
static bool copyable(struct pg_stmt *s);
static int copy_row(struct pg_stmt *s);

/* Before anything else uses the connection: a COPY ended, the rows of a
 * statement still coming read. A COPY's error (rows staged before) is
 * this call's. */
static int
settle(struct pg_store *st)
{
	int r = copy_end(st, false), r2 = finish_stream(st, false);

	return r < 0 ? r : r2;
}

/* The result of a command sent with PQexec(): 0 or a negative errno. */
static int
exec_result(struct pg_store *st, PGresult *res)
{
	ExecStatusType e = PQresultStatus(res);
	int r = 0;

	if (e == PGRES_COMMAND_OK || e == PGRES_TUPLES_OK) {
		const char *n = PQcmdTuples(res);
		st->changes = n[0] ? atoll(n) : 0;
		st->total += st->changes;
	} else {
		r = fail(st, res);
	}
	PQclear(res);
	return r;
}

/* Run sql (already in PostgreSQL's form) with no parameters. */
static int
exec_raw(struct pg_store *st, const char *sql)
{
	int r;

	if ((r = settle(st)) < 0)
		return r;
	return exec_result(st, PQexec(st->conn, sql));
}

static int materialize(struct pg_store *st, unsigned preds);

/* The PostgreSQL form of one of schema/temp_*.sql's pieces, or sql. */
static const char *
pg_form(const char *sql)
{
	for (const struct schema_form *f = schema_pg_forms; f->sqlite != NULL; f++)
		if (f->sqlite == sql)
			return f->pg;
	return sql;
}

static const char *const *
pred_names(struct pg_store *st, const char **names)
{
	for (size_t i = 0; i < st->npreds; i++)
		names[i] = st->preds[i].name;
	return names;
}

/* Temporary tables get no statistics unless asked: "ANALYZE temp". */
static int
analyze_temp(struct pg_store *st)
{
	PGresult *res;
	int r = 0;

	if ((r = settle(st)) < 0)
		return r;
	res = PQexec(st->conn, "SELECT string_agg('ANALYZE pg_temp.' || quote_ident(relname), '; ') "
		     "FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relkind = 'r'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = fail(st, res);
	} else if (!PQgetisnull(res, 0, 0)) {
		char *sql = strdup(PQgetvalue(res, 0, 0));
		r = sql ? exec_raw(st, sql) : -ENOMEM;
		free(sql);
	}
	PQclear(res);
	return r;
}

static int
pg_exec(struct store *base, const char *sql)
{
	struct pg_store *st = PG(base);
	const char *names[MAX_PREDS];
	struct pg_sql q;
	int r;

	if (strcmp(sql, "ANALYZE temp") == 0)
		return analyze_temp(st);
	if ((r = pg_sql_rewrite(pg_form(sql), pred_names(st, names), st->npreds, &q)) < 0)
		return r;
	if ((r = materialize(st, q.preds)) == 0)
		r = exec_raw(st, q.text);
	pg_sql_free(&q);
	return r;
}

static long long
pg_changes(struct store *base)
{
	return PG(base)->changes;
}

static long long
pg_total_changes(struct store *base)
{
	return PG(base)->total;
}

/* One integer from a query with no parameters: 0 with *v, or an error. */
static int
query_ll(struct pg_store *st, const char *sql, long long *v)
{
	PGresult *res;
	int r;

	if ((r = settle(st)) < 0)
		return r;
	res = PQexec(st->conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		r = fail(st, res);
	else if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0))
		r = -ENOENT;
	else
		*v = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? 1 :
		     strcmp(PQgetvalue(res, 0, 0), "f") == 0 ? 0 : atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return r;
}

static long long
pg_last_id(struct store *base)
{
	long long v = 0;

	return query_ll(PG(base), "SELECT lastval()", &v) < 0 ? 0 : v;
}

/* ---- transactions -------------------------------------------------------------- */

static bool
pg_in_txn(struct store *base)
{
	return PQtransactionStatus(PG(base)->conn) != PQTRANS_IDLE;
}

static bool
pg_conflicted(struct store *base)
{
	return PG(base)->conflicted;
}

static int
pg_begin(struct store *base)
{
	struct pg_store *st = PG(base);
	int r;

	st->conflicted = false;
	if ((r = have_migrations(st)) < 0 ||
	    (r = exec_raw(st, "BEGIN ISOLATION LEVEL REPEATABLE READ")) < 0)
		return r;
	/* Before the snapshot: rosterd's writers one at a time. (A schema
	 * without rosterd's tables has nothing to lock, nor to write.) */
	if (st->have_migrations &&
	    (r = exec_raw(st, "LOCK TABLE schema_migrations IN EXCLUSIVE MODE")) < 0)
		exec_raw(st, "ROLLBACK");
	return r;
}

static int
pg_begin_temp(struct store *base)
{
	return exec_raw(PG(base), "BEGIN");
}

static int
pg_commit(struct store *base)
{
	return exec_raw(PG(base), "COMMIT");
}

static int
pg_rollback(struct store *base)
{
	struct pg_store *st = PG(base);

	copy_end(st, true);
	finish_stream(st, true);
	for (size_t i = 0; i < st->npreds; i++)
		st->preds[i].ready = false;   /* what the transaction wrote is gone */
	if (PQtransactionStatus(st->conn) == PQTRANS_IDLE)
		return 0;
	return exec_raw(st, "ROLLBACK");
}

/* After a run: the server keeps its own log, but the tables a run wrote
 * much (a first sync) get fresh statistics at once, for the next run's
 * plans, rather than when autovacuum comes by. */
#define ANALYZE_AFTER 10000

static int
pg_checkpoint(struct store *base)
{
	struct pg_store *st = PG(base);

	if (st->total - st->analyzed < ANALYZE_AFTER || pg_in_txn(base))
		return 0;
	st->analyzed = st->total;
	return exec_raw(st, "ANALYZE people; ANALYZE person_fields; ANALYZE person_managers; "
			"ANALYZE groups; ANALYZE group_members; ANALYZE group_membership; "
			"ANALYZE audit_log");
}

/* The advisory lock keys: the schema's, and which lock. */
static int
pg_lock(struct store *base, enum store_lock which)
{
	struct pg_store *st = PG(base);
	char sql[160];
	long long got;
	int r;

	if (st->held[which])
		return 0;
	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(hashtext('rosterd ' || "
		 "current_schema()), %d)", which == STORE_LOCK_RUN ? 1 : 2);
	if ((r = query_ll(st, sql, &got)) < 0)
		return r;
	if (!got)
		return -EBUSY;
	st->held[which] = true;
	return 0;
}

static void
pg_unlock(struct store *base, enum store_lock which)
{
	struct pg_store *st = PG(base);
	char sql[160];
	long long v;

	if (!st->held[which])
		return;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(hashtext('rosterd ' || "
		 "current_schema()), %d)", which == STORE_LOCK_RUN ? 1 : 2);
	query_ll(st, sql, &v);
	st->held[which] = false;
}

static int
pg_ping(struct store *base)
{
	struct pg_store *st = PG(base);
	long long v;
	int r;

	if (st->streaming != NULL || pg_in_txn(base))
		return PQstatus(st->conn) == CONNECTION_OK ? 0 : -ECONNRESET;
	r = query_ll(st, "SELECT 1", &v);
	return PQstatus(st->conn) == CONNECTION_OK ? r : -ECONNRESET;
}

/* ---- statements ------------------------------------------------------------------ */

static void
free_binds(struct pg_stmt *s)
{
	for (int i = 0; i < s->q.nparams; i++) {
		free(s->copies[i]);
		s->copies[i] = NULL;
		s->vals[i] = (struct store_value){ .kind = STORE_BIND_NULL };
	}
}

/* Back to before its first step: results read away, bindings kept. */
static void
stop_run(struct pg_stmt *s)
{
	if (s->st->streaming == s)
		finish_stream(s->st, true);
	clear_result(s);
	rows_free(&s->rows);
	s->running = s->done = s->buffered = false;
	s->brow = NULL;
}

static void
stmt_free(struct pg_stmt *s)
{
	stop_run(s);
	free_binds(s);
	free(s->vals);
	free(s->copies);
	free(s->types);
	for (int i = 0; s->colnames && i < s->ncols; i++)
		free(s->colnames[i]);
	free(s->colnames);
	free(s->coltypes);
	pg_sql_free(&s->q);
	free(s->sql);
	free(s->copy);
	free(s);
}

static int
stmt_new(struct pg_store *st, const char *sql, struct pg_stmt **out)
{
	struct pg_stmt *s = calloc(1, sizeof(*s));
	const char *names[MAX_PREDS];
	int r, n;

	if (s == NULL)
		return -ENOMEM;
	s->base.st = &st->base;
	s->st = st;
	s->blobcol = -1;
	s->copy_ok = -1;
	if ((s->sql = strdup(sql)) == NULL) {
		free(s);
		return -ENOMEM;
	}
	if ((r = pg_sql_rewrite(pg_form(sql), pred_names(st, names), st->npreds, &s->q)) < 0) {
		free(s->sql);
		free(s);
		return r;
	}
	n = s->q.nparams > 0 ? s->q.nparams : 1;
	s->vals = calloc((size_t)n, sizeof(*s->vals));
	s->copies = calloc((size_t)n, sizeof(*s->copies));
	s->types = calloc((size_t)n, sizeof(*s->types));
	if (s->vals == NULL || s->copies == NULL || s->types == NULL) {
		stmt_free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

static int
pg_prepare(struct store *base, const char *sql, struct stmt **out)
{
	struct pg_store *st = PG(base);
	uint64_t h = store_sql_hash(sql, strlen(sql));
	struct pg_stmt **head = &st->bucket[h % STMT_BUCKETS], *s;
	int r;

	for (s = *head; s != NULL; s = s->next)
		if (s->hash == h && !s->in_use && strcmp(s->sql, sql) == 0) {
			s->in_use = true;
			*out = &s->base;
			return 0;
		}
	if ((r = stmt_new(st, sql, &s)) < 0) {
		if (r == -EINVAL)
			set_err(st, "a statement rosterd cannot rewrite for PostgreSQL");
		return r;
	}
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
pg_reset(struct stmt *base)
{
	struct pg_stmt *s = PGS(base);

	stop_run(s);
	free_binds(s);
}

/* The server's prepared statement of a cached statement stays; one not
 * cached is given up with it. */
static void
pg_done(struct stmt *base)
{
	struct pg_stmt *s = PGS(base);
	char sql[64];

	if (s->cached) {
		pg_reset(base);
		s->in_use = false;
		return;
	}
	if (s->name[0] && PQstatus(s->st->conn) == CONNECTION_OK) {
		stop_run(s);
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
		if (settle(s->st) == 0)
			PQclear(PQexec(s->st->conn, sql));
	}
	stmt_free(s);
}

static int
pg_bind(struct stmt *base, int i, const struct store_value *v)
{
	struct pg_stmt *s = PGS(base);
	struct store_value c = *v;

	if (i < 1 || i > s->q.nparams)
		return -EIO;
	if (s->running)
		stop_run(s);
	free(s->copies[i - 1]);
	s->copies[i - 1] = NULL;
	if (c.kind == STORE_BIND_TEXT_COPY || (c.kind == STORE_BIND_TEXT && c.n != (size_t)-1)) {
		/* libpq wants text with its NUL: a copy */
		size_t n = c.n == (size_t)-1 ? strlen(c.v) : c.n;
		if ((s->copies[i - 1] = strndup(c.v, n)) == NULL)
			return -ENOMEM;
		c.v = s->copies[i - 1];
		c.kind = STORE_BIND_TEXT;
	}
	s->vals[i - 1] = c;
	return 0;
}

static int
pg_param(struct stmt *base, const char *name)
{
	struct pg_stmt *s = PGS(base);

	for (int i = 0; i < s->q.nparams; i++)
		if (s->q.names[i] != NULL && strcmp(s->q.names[i], name) == 0)
			return i + 1;
	return 0;
}

/* The type a bound value is prepared with (0, for NULL: the server infers
 * it, or text when it cannot). */
static Oid
type_of(const struct store_value *v)
{
	switch (v->kind) {
	case STORE_BIND_TEXT:
	case STORE_BIND_TEXT_COPY:
		return OID_TEXT;
	case STORE_BIND_INT:
		return OID_INT8;
	case STORE_BIND_DOUBLE:
		return OID_FLOAT8;
	case STORE_BIND_BLOB:
		return OID_BYTEA;
	default:
		return 0;
	}
}

/* Prepare s on the server for the types bound now, unless it is prepared
 * already for types that take these values. */
static int
server_prepare(struct pg_stmt *s)
{
	struct pg_store *st = s->st;
	bool again = s->name[0] == '\0', guard = false;
	const char *code;
	PGresult *res;

	for (int i = 0; i < s->q.nparams && !again; i++) {
		Oid t = type_of(&s->vals[i]);
		again = t != 0 && s->types[i] != 0 && s->types[i] != t;
	}
	if (!again)
		return 0;
	if (s->name[0]) {
		char sql[64];
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
		PQclear(PQexec(st->conn, sql));
	}
	for (int i = 0; i < s->q.nparams; i++)
		s->types[i] = type_of(&s->vals[i]);
	snprintf(s->name, sizeof(s->name), "r%u", ++st->nstmt);
	/* A NULL where nothing says what it is fails: then it is text. A
	 * failure inside a transaction would end it: a savepoint keeps it. */
	for (int i = 0; i < s->q.nparams && !guard; i++)
		guard = s->types[i] == 0 && pg_in_txn(&st->base);
	if (guard && exec_raw(st, "SAVEPOINT rosterd_prepare") < 0)
		return -EIO;
	res = PQprepare(st->conn, s->name, s->q.text, s->q.nparams, s->types);
	code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (guard)
		exec_raw(st, PQresultStatus(res) == PGRES_COMMAND_OK ? "RELEASE rosterd_prepare" :
			 "ROLLBACK TO rosterd_prepare; RELEASE rosterd_prepare");
	if (PQresultStatus(res) != PGRES_COMMAND_OK && code != NULL &&
	    (strcmp(code, "42P18") == 0 || strcmp(code, "42P08") == 0)) {
		for (int i = 0; i < s->q.nparams; i++)
			s->types[i] = s->types[i] ? s->types[i] : OID_TEXT;
		PQclear(res);
		res = PQprepare(st->conn, s->name, s->q.text, s->q.nparams, s->types);
	}
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		/* the statement as the driver made it, to see what went wrong */
		int r = fail(st, res);
		size_t n = strlen(st->errbuf);
		snprintf(st->errbuf + n, sizeof(st->errbuf) - n, " (in: %.300s)", s->q.text);
		PQclear(res);
		s->name[0] = '\0';
		return r;
	}
	PQclear(res);
	return 0;
}

/* Send s with its values, its rows to come one at a time. */
static int
send_stmt(struct pg_stmt *s)
{
	struct pg_store *st = s->st;
	const char *vals[PG_SQL_MAX_PARAMS];
	int lens[PG_SQL_MAX_PARAMS], fmts[PG_SQL_MAX_PARAMS];
	char nums[PG_SQL_MAX_PARAMS][32];
	int r;

	if ((r = settle(st)) < 0 || (r = materialize(st, s->q.preds)) < 0 ||
	    (r = server_prepare(s)) < 0)
		return r;
	for (int i = 0; i < s->q.nparams; i++) {
		const struct store_value *v = &s->vals[i];
		fmts[i] = v->kind == STORE_BIND_BLOB;
		lens[i] = v->kind == STORE_BIND_BLOB ? (int)v->n : 0;
		switch (v->kind) {
		case STORE_BIND_INT:
			snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)v->i);
			vals[i] = nums[i];
			break;
		case STORE_BIND_DOUBLE:
			snprintf(nums[i], sizeof(nums[i]), "%.17g", v->d);
			vals[i] = nums[i];
			break;
		case STORE_BIND_NULL:
			vals[i] = NULL;
			break;
		default:
			vals[i] = v->v != NULL ? v->v : (v->kind == STORE_BIND_BLOB ? "" : NULL);
		}
	}
	if (!PQsendQueryPrepared(st->conn, s->name, s->q.nparams, vals, lens, fmts, 0) ||
	    !PQsetSingleRowMode(st->conn))
		return fail(st, NULL);
	st->streaming = s;
	s->running = true;
	return 0;
}

/* The statement's last result came: its changes. 0 or an error. */
static int
ended(struct pg_stmt *s, PGresult *res)
{
	struct pg_store *st = s->st;
	ExecStatusType e = PQresultStatus(res);
	const char *n;

	if (e != PGRES_COMMAND_OK && e != PGRES_TUPLES_OK)
		return fail(st, res);
	if (e == PGRES_TUPLES_OK && keep_columns(s, res) < 0)
		return -ENOMEM;
	n = PQcmdTuples(res);
	s->changes = n[0] ? atoll(n) : 0;
	if (e == PGRES_COMMAND_OK) {
		st->changes = s->changes;
		st->total += s->changes;
		if (s->q.eexist_on_none && s->changes == 0) {
			set_err(st, "duplicate key value violates unique constraint");
			return -EEXIST;
		}
	}
	return 0;
}

/* The next row from the connection: 1, 0 at the end, or an error. */
static int
step_stream(struct pg_stmt *s)
{
	struct pg_store *st = s->st;
	PGresult *res;
	int r = 0;

	while ((res = PQgetResult(st->conn)) != NULL) {
		if (PQresultStatus(res) == PGRES_SINGLE_TUPLE) {
			if (keep_columns(s, res) < 0) {
				PQclear(res);
				return -ENOMEM;
			}
			s->res = res;
			return 1;
		}
		if (r == 0)
			r = ended(s, res);
		PQclear(res);
	}
	st->streaming = NULL;
	s->done = true;
	return r;
}

static int
pg_step(struct stmt *base)
{
	struct pg_stmt *s = PGS(base);
	int r;

	clear_result(s);
	if (s->done)
		return 0;
	if (!s->running && s->q.eexist_on_none && copyable(s)) {
		s->done = true;
		return copy_row(s);
	}
	if (!s->running && (r = send_stmt(s)) < 0) {
		s->done = true;
		return r;
	}
	if (s->buffered) {
		if (s->rows.next < s->rows.n) {
			s->brow = (const char *const *)s->rows.row[s->rows.next++];
			return 1;
		}
		s->done = true;
		s->brow = NULL;
		return 0;
	}
	r = step_stream(s);
	if (r < 0)
		s->done = true;
	return r;
}

static long long
pg_run(struct stmt *base)
{
	struct pg_stmt *s = PGS(base);
	int r;

	while ((r = pg_step(base)) == 1)
		;
	return r < 0 ? r : s->changes;
}

/* Columns before the first step: the server describes the statement. */
static void
describe(struct pg_stmt *s)
{
	PGresult *res;

	if (s->colnames != NULL || settle(s->st) < 0 || server_prepare(s) < 0)
		return;
	res = PQdescribePrepared(s->st->conn, s->name);
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
		keep_columns(s, res);
	PQclear(res);
}

static int
pg_columns(struct stmt *base)
{
	struct pg_stmt *s = PGS(base);

	describe(s);
	return s->ncols;
}

static const char *
pg_column_name(struct stmt *base, int i)
{
	struct pg_stmt *s = PGS(base);

	describe(s);
	return i >= 0 && i < s->ncols ? s->colnames[i] : NULL;
}

/* Column i of the row now: its text or NULL, and its length. */
static const char *
value(struct pg_stmt *s, int i, int *len)
{
	*len = -1;
	if (i < 0 || i >= s->ncols)
		return NULL;
	if (s->res != NULL) {
		if (PQgetisnull(s->res, 0, i))
			return NULL;
		*len = PQgetlength(s->res, 0, i);
		return PQgetvalue(s->res, 0, i);
	}
	if (s->brow != NULL)
		return rows_value((const char *)s->brow, i, len);
	return NULL;
}

static enum store_type
pg_type(struct stmt *base, int i)
{
	struct pg_stmt *s = PGS(base);
	int len;
	const char *v = value(s, i, &len);

	if (v == NULL)
		return STORE_NULL;
	switch (s->coltypes[i]) {
	case OID_BOOL: case OID_INT2: case OID_INT4: case OID_INT8:
		return STORE_INT;
	case OID_NUMERIC:
		return strpbrk(v, ".eE") ? STORE_FLOAT : STORE_INT;
	case OID_FLOAT4: case OID_FLOAT8:
		return STORE_FLOAT;
	case OID_BYTEA:
		return STORE_BLOB;
	default:
		return STORE_TEXT;
	}
}

static int64_t
pg_int(struct stmt *base, int i)
{
	struct pg_stmt *s = PGS(base);
	int len;
	const char *v = value(s, i, &len);

	if (v == NULL)
		return 0;
	if (s->coltypes[i] == OID_BOOL)
		return v[0] == 't';
	if (s->coltypes[i] == OID_NUMERIC || s->coltypes[i] == OID_FLOAT4 ||
	    s->coltypes[i] == OID_FLOAT8)
		return (int64_t)strtod(v, NULL);
	return strtoll(v, NULL, 10);
}

static double
pg_double(struct stmt *base, int i)
{
	struct pg_stmt *s = PGS(base);
	int len;
	const char *v = value(s, i, &len);

	if (v == NULL)
		return 0;
	return s->coltypes[i] == OID_BOOL ? (v[0] == 't') : strtod(v, NULL);
}

static const char *
pg_text(struct stmt *base, int i)
{
	struct pg_stmt *s = PGS(base);
	int len;
	const char *v = value(s, i, &len);

	if (v != NULL && s->coltypes[i] == OID_BOOL)
		return v[0] == 't' ? "1" : "0";
	return v;
}

/* A bytea column's bytes (sent as text, in hex). */
static const void *
pg_blob(struct stmt *base, int i)
{
	struct pg_stmt *s = PGS(base);
	int len;
	const char *v = value(s, i, &len);

	if (v == NULL)
		return NULL;
	if (s->coltypes[i] != OID_BYTEA)
		return v;
	if (s->blobcol != i) {
		free(s->blob);
		s->blob = (char *)PQunescapeBytea((const unsigned char *)v, &s->bloblen);
		s->blobcol = s->blob ? i : -1;
	}
	return s->blob;
}

static size_t
pg_bytes(struct stmt *base, int i)
{
	struct pg_stmt *s = PGS(base);
	int len;
	const char *v = value(s, i, &len);

	if (v == NULL)
		return 0;
	if (s->coltypes[i] == OID_BYTEA)
		return pg_blob(base, i) ? s->bloblen : 0;
	if (s->coltypes[i] == OID_BOOL)
		return 1;
	return (size_t)len;
}

/* ---- staging by COPY ---------------------------------------------------------------
 *
 * A run stages hundreds of thousands of rows one INSERT at a time (a
 * member value, a memberOf value, a group's list): each one a round trip to
 * the server. An insert of one row of parameters into a temporary table
 * without a unique index cannot fail but for a broken row, so its rows go
 * into a COPY instead, kept open across the inserts and ended (its rows
 * written) before the connection is used for anything else; an error then
 * is that next call's.
 */

/* The COPY of s's insert ("INSERT INTO pg_temp.t (c, ...) VALUES ($1, ...,
 * $n) ON CONFLICT DO NOTHING", the parameters in order), or NULL. */
static char *
copy_of(const struct pg_stmt *s)
{
	const char *t = s->q.text, *cols, *end;
	char want[16], *copy = NULL;
	size_t at;

	if (!s->q.eexist_on_none || strncmp(t, "INSERT INTO pg_temp.", 20) != 0 ||
	    (cols = strchr(t, '(')) == NULL || (end = strstr(cols, ") VALUES (")) == NULL)
		return NULL;
	at = (size_t)(end - t) + 10;
	for (int i = 1; i <= s->q.nparams; i++) {
		snprintf(want, sizeof(want), "$%d%s", i, i < s->q.nparams ? ", " : ")");
		if (strncmp(t + at, want, strlen(want)) != 0)
			return NULL;
		at += strlen(want);
	}
	if (strcmp(t + at, " ON CONFLICT DO NOTHING") != 0 ||
	    asprintf(&copy, "COPY %.*s FROM STDIN", (int)(end + 1 - (t + 12)), t + 12) < 0)
		return NULL;
	return copy;
}

/* Whether s's rows may go by COPY: its form, and its table without a
 * unique index (asked once). */
static bool
copyable(struct pg_stmt *s)
{
	char sql[256];
	long long v;
	const char *t;
	size_t n;

	if (s->copy_ok >= 0)
		return s->copy_ok;
	s->copy_ok = 0;
	if ((s->copy = copy_of(s)) == NULL)
		return false;
	t = s->copy + strlen("COPY pg_temp.");
	n = strcspn(t, " (");
	snprintf(sql, sizeof(sql), "SELECT NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c "
		 "ON c.oid = i.indrelid WHERE c.relnamespace = pg_my_temp_schema() AND "
		 "c.relname = '%.*s' AND i.indisunique)", (int)n, t);
	s->copy_ok = query_ll(s->st, sql, &v) == 0 && v;
	return s->copy_ok;
}

/* Room for n more bytes in the COPY buffer. */
static int
copy_room(struct pg_store *st, size_t n)
{
	char *b;
	size_t cap = st->ccap ? st->ccap : 65536;

	if (st->clen + n <= st->ccap)
		return 0;
	while (cap < st->clen + n)
		cap *= 2;
	if ((b = realloc(st->cbuf, cap)) == NULL)
		return -ENOMEM;
	st->cbuf = b;
	st->ccap = cap;
	return 0;
}

/* One value of the row, in COPY's text format. */
static int
copy_value(struct pg_store *st, const struct store_value *v, bool last)
{
	static const char hex[] = "0123456789abcdef";
	char num[32];
	const unsigned char *p = v->v;
	size_t n = v->n == (size_t)-1 && p ? strlen(v->v) : v->n;
	int r;

	if (v->kind == STORE_BIND_INT || v->kind == STORE_BIND_DOUBLE) {
		if (v->kind == STORE_BIND_INT)
			snprintf(num, sizeof(num), "%lld", (long long)v->i);
		else
			snprintf(num, sizeof(num), "%.17g", v->d);
		p = (const unsigned char *)num;
		n = strlen(num);
	}
	if ((r = copy_room(st, 2 * n + 4 + (v->kind == STORE_BIND_BLOB ? 2 * n : 0))) < 0)
		return r;
	if (v->kind == STORE_BIND_NULL || p == NULL) {
		memcpy(st->cbuf + st->clen, "\\N", 2);
		st->clen += 2;
	} else if (v->kind == STORE_BIND_BLOB) {
		memcpy(st->cbuf + st->clen, "\\\\x", 3);
		st->clen += 3;
		for (size_t i = 0; i < n; i++) {
			st->cbuf[st->clen++] = hex[p[i] >> 4];
			st->cbuf[st->clen++] = hex[p[i] & 15];
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			unsigned char c = p[i];
			if (c == '\\' || c == '\n' || c == '\r' || c == '\t') {
				st->cbuf[st->clen++] = '\\';
				c = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '\\';
			}
			st->cbuf[st->clen++] = (char)c;
		}
	}
	st->cbuf[st->clen++] = last ? '\n' : '\t';
	return 0;
}

/* Stage s's row: into the COPY of its table, begun if need be. */
static int
copy_row(struct pg_stmt *s)
{
	struct pg_store *st = s->st;
	int r = 0;

	if (st->copying != s) {
		PGresult *res;

		if ((r = settle(st)) < 0)
			return r;
		res = PQexec(st->conn, s->copy);
		if (PQresultStatus(res) != PGRES_COPY_IN) {
			r = fail(st, res);
			PQclear(res);
			return r;
		}
		PQclear(res);
		st->copying = s;
	}
	for (int i = 0; i < s->q.nparams && r == 0; i++)
		r = copy_value(st, &s->vals[i], i + 1 == s->q.nparams);
	if (r == 0 && st->clen >= 60000) {
		r = PQputCopyData(st->conn, st->cbuf, (int)st->clen) == 1 ? 0 : fail(st, NULL);
		st->clen = 0;
	}
	st->changes = s->changes = 1;
	st->total++;
	return r;
}

/* End the COPY in progress (discard: its rows thrown away). */
static int
copy_end(struct pg_store *st, bool discard)
{
	PGresult *res;
	int r = 0;

	if (st->copying == NULL)
		return 0;
	st->copying = NULL;
	if (!discard && st->clen > 0 && PQputCopyData(st->conn, st->cbuf, (int)st->clen) != 1)
		r = fail(st, NULL);
	st->clen = 0;
	if (PQputCopyEnd(st->conn, discard || r < 0 ? "rosterd: not staged" : NULL) != 1 && r == 0)
		r = fail(st, NULL);
	while ((res = PQgetResult(st->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && r == 0 && !discard)
			r = fail(st, res);
		PQclear(res);
	}
	return r;
}

/* ---- predicates ------------------------------------------------------------------ */

static struct pg_pred *
pred_find(struct pg_store *st, const char *name)
{
	for (size_t i = 0; i < st->npreds; i++)
		if (strcmp(st->preds[i].name, name) == 0)
			return &st->preds[i];
	return NULL;
}

/* Statements rewritten with the predicates as they were are dropped from
 * the cache when the set of names changes. */
static void
forget_statements(struct pg_store *st)
{
	for (size_t b = 0; b < STMT_BUCKETS; b++) {
		struct pg_stmt **pp = &st->bucket[b];
		while (*pp != NULL) {
			struct pg_stmt *s = *pp;
			if (!s->in_use) {
				*pp = s->next;
				st->ncached--;
				s->cached = false;
				pg_done(&s->base);
			} else {
				pp = &s->next;
			}
		}
	}
}

/* The PostgreSQL form of sql, which calls no predicate, in *out. */
static int
pg_form_of(const char *sql, char **out)
{
	struct pg_sql q;
	int r = pg_sql_rewrite(sql, NULL, 0, &q);

	if (r < 0)
		return r;
	*out = q.text;
	q.text = NULL;
	pg_sql_free(&q);
	return 0;
}

static int
pg_define_predicate(struct store *base, const char *name, store_predicate_fn fn, void *arg,
		    const char *domain, enum store_outside outside)
{
	struct pg_store *st = PG(base);
	struct pg_pred *p = pred_find(st, name);
	int r;

	if (fn == NULL) {
		if (p != NULL)
			p->fn = NULL;
		return 0;
	}
	if (p == NULL) {
		if (st->npreds == MAX_PREDS || domain == NULL)
			return -EINVAL;
		p = &st->preds[st->npreds];
		if ((p->name = strdup(name)) == NULL)
			return -ENOMEM;
		st->npreds++;
		forget_statements(st);
	}
	free(p->domain);
	p->domain = NULL;
	if ((r = pg_form_of(domain, &p->domain)) < 0)
		return r;
	p->fn = fn;
	p->arg = arg;
	p->outside = outside;
	p->ready = false;
	return 0;
}

/* Append v to the COPY text buf (escaped, a line). */
static int
copy_line(char **buf, size_t *len, size_t *cap, const char *v, size_t n)
{
	if (*len + 2 * n + 2 > *cap) {
		size_t c = *cap ? *cap : 65536;
		char *b;
		while (c < *len + 2 * n + 2)
			c *= 2;
		if ((b = realloc(*buf, c)) == NULL)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (c == '\\' || c == '\n' || c == '\r' || c == '\t') {
			(*buf)[(*len)++] = '\\';
			c = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '\\';
		}
		(*buf)[(*len)++] = c;
	}
	(*buf)[(*len)++] = '\n';
	return 0;
}

/* COPY text (lines) into p's table. */
static int
copy_text(struct pg_store *st, struct pg_pred *p, const char *text, size_t len)
{
	char sql[160];
	PGresult *res;
	int r = 0;

	snprintf(sql, sizeof(sql), "COPY pg_temp.rosterd_pred_%s (v) FROM STDIN", p->name);
	res = PQexec(st->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		r = fail(st, res);
		PQclear(res);
		return r;
	}
	PQclear(res);
	for (size_t off = 0; off < len && r == 0; off += 65536) {
		size_t n = len - off < 65536 ? len - off : 65536;
		r = PQputCopyData(st->conn, text + off, (int)n) == 1 ? 0 : fail(st, NULL);
	}
	if (PQputCopyEnd(st->conn, r == 0 ? NULL : "rosterd: stopped") != 1 && r == 0)
		r = fail(st, NULL);
	while ((res = PQgetResult(st->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && r == 0)
			r = fail(st, res);
		PQclear(res);
	}
	return r;
}

/* The values of p's domain, read a row at a time, as COPY lines: those fn
 * holds for in side[1], the others in side[0]. */
struct copy_buf {
	char *b;
	size_t len, cap, n;
};

static int
read_domain(struct pg_store *st, struct pg_pred *p, struct copy_buf side[2])
{
	PGresult *res;
	int r = 0;

	if (!PQsendQuery(st->conn, p->domain) || !PQsetSingleRowMode(st->conn))
		return fail(st, NULL);
	while ((res = PQgetResult(st->conn)) != NULL) {
		ExecStatusType e = PQresultStatus(res);

		if (e == PGRES_SINGLE_TUPLE && r == 0 && !PQgetisnull(res, 0, 0)) {
			const char *v = PQgetvalue(res, 0, 0);
			size_t n = (size_t)PQgetlength(res, 0, 0);
			struct copy_buf *c = &side[p->fn(p->arg, v, n) ? 1 : 0];

			r = copy_line(&c->b, &c->len, &c->cap, v, n);
			c->n++;
		} else if (e != PGRES_SINGLE_TUPLE && e != PGRES_TUPLES_OK && r == 0) {
			r = fail(st, res);
		}
		PQclear(res);
	}
	return r;
}

/* Ask fn about every value of p's domain; keep in pg_temp.rosterd_pred_NAME
 * those it holds for or those it does not (inv, in
 * pg_temp.rosterd_pred_NAME_inv): the fewer when the domain is every text
 * asked (a resync reads nearly everyone unchanged, and keeps nearly no
 * one), else those that differ from what a text outside it is. */
static int
materialize_one(struct pg_store *st, struct pg_pred *p)
{
	struct copy_buf side[2] = { { 0 } };
	char sql[512];
	bool inv;
	int r;

	snprintf(sql, sizeof(sql), "CREATE TEMP TABLE IF NOT EXISTS rosterd_pred_%s (v text); "
		 "CREATE TEMP TABLE IF NOT EXISTS rosterd_pred_%s_inv (inv boolean NOT NULL); "
		 "TRUNCATE pg_temp.rosterd_pred_%s, pg_temp.rosterd_pred_%s_inv",
		 p->name, p->name, p->name, p->name);
	if ((r = exec_raw(st, sql)) < 0)
		return r;
	r = read_domain(st, p, side);
	/* (a text outside the domain: the predicate is inv) */
	inv = p->outside == STORE_DOMAIN_ALL ? side[1].n > side[0].n :
	      p->outside == STORE_OUTSIDE_TRUE;
	if (r == 0)
		r = copy_text(st, p, side[inv ? 0 : 1].b, side[inv ? 0 : 1].len);
	free(side[0].b);
	free(side[1].b);
	snprintf(sql, sizeof(sql), "INSERT INTO pg_temp.rosterd_pred_%s_inv VALUES (%s); "
		 "ANALYZE pg_temp.rosterd_pred_%s", p->name, inv ? "true" : "false", p->name);
	return r < 0 ? r : exec_raw(st, sql);
}

/* Before a statement that calls the predicates of the bits of preds. */
static int
materialize(struct pg_store *st, unsigned preds)
{
	int r;

	for (size_t i = 0; i < st->npreds; i++) {
		struct pg_pred *p = &st->preds[i];

		if (!(preds & (1u << i)) || p->ready)
			continue;
		if (p->fn == NULL) {
			set_err(st, "a statement calls a function that is not defined");
			return -EIO;
		}
		if ((r = settle(st)) < 0 || (r = materialize_one(st, p)) < 0)
			return r;
		p->ready = true;
	}
	return 0;
}

/* ---- the store ------------------------------------------------------------------ */

/* Whether the schema has rosterd's table schema_migrations (a schema
 * rosterd has not migrated yet has none): 1, 0, or an error. */
static int
have_migrations(struct pg_store *st)
{
	long long v;
	int r;

	if (st->have_migrations)
		return 1;
	if ((r = query_ll(st, "SELECT to_regclass('schema_migrations') IS NOT NULL", &v)) < 0)
		return r;
	st->have_migrations = v != 0;
	return st->have_migrations;
}

static int
pg_schema_version(struct store *base)
{
	struct pg_store *st = PG(base);
	long long v;
	int r = have_migrations(st);

	if (r <= 0)
		return r < 0 ? -1 : 0;
	return query_ll(st, "SELECT coalesce(max(version), 0) FROM schema_migrations",
			&v) < 0 ? -1 : (int)v;
}

/* Apply migrations v..: in the open transaction. */
static int
apply_migrations(struct pg_store *st, int v, char *err, size_t errlen)
{
	char sql[256];

	for (int i = v; i < schema_pg_count; i++) {
		if (exec_raw(st, schema_pg_migrations[i]) < 0) {
			snprintf(err, errlen, "schema migration %s failed: %s", schema_pg_names[i],
				 st->errbuf);
			return -EIO;
		}
		/* 006 adds the usernames' keys, which only C computes */
		if (i + 1 == 6 && store_username_keys(&st->base) < 0) {
			snprintf(err, errlen, "schema migration 006 failed: %s", st->errbuf);
			return -EIO;
		}
		snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations (version, name) "
			 "VALUES (%d, '%s')", i + 1, schema_pg_names[i]);
		if (exec_raw(st, sql) < 0) {
			snprintf(err, errlen, "schema migration %s: %s", schema_pg_names[i],
				 st->errbuf);
			return -EIO;
		}
	}
	return 0;
}

static int
pg_migrate(struct store *base, char *err, size_t errlen)
{
	struct pg_store *st = PG(base);
	bool own_txn = !pg_in_txn(base);
	int v = pg_schema_version(base), r;

	if (v < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s", st->errbuf);
		return -EIO;
	}
	if (v > schema_pg_count) {
		snprintf(err, errlen, "the store has schema version %d, newer than this rosterd "
			 "knows (%d): use a newer rosterd", v, schema_pg_count);
		return -EPROTO;
	}
	if (v == schema_pg_count)
		return 0;
	/* READ COMMITTED: once the lock is had, the version read is the
	 * latest. */
	if (own_txn && ((r = exec_raw(st, "BEGIN")) < 0 ||
			(r = exec_raw(st, "CREATE TABLE IF NOT EXISTS schema_migrations "
				      "(version integer PRIMARY KEY, name text NOT NULL, "
				      "applied_at timestamptz NOT NULL DEFAULT now()); "
				      "LOCK TABLE schema_migrations IN EXCLUSIVE MODE")) < 0)) {
		snprintf(err, errlen, "cannot lock the store to migrate it: %s", st->errbuf);
		pg_rollback(base);
		return r;
	}
	st->have_migrations = false;   /* (read again) */
	/* Another process may have migrated it while we waited for the lock. */
	if ((v = pg_schema_version(base)) < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s", st->errbuf);
		r = -EIO;
	} else {
		r = apply_migrations(st, v, err, errlen);
	}
	if (r == 0 && own_txn && (r = pg_commit(base)) < 0)
		snprintf(err, errlen, "schema migration failed: %s", st->errbuf);
	if (r < 0 && own_txn)
		pg_rollback(base);
	return r;
}

/* url without its password, for messages. */
static char *
url_shown(const char *url)
{
	char *u = strdup(url), *a, *at, *colon;

	if (u == NULL || (a = strstr(u, "://")) == NULL)
		return u;
	a += 3;
	at = strchr(a, '@');
	colon = at ? memchr(a, ':', (size_t)(at - a)) : NULL;
	if (colon != NULL)
		memmove(colon, at, strlen(at) + 1);
	return u;
}

/* The schema where rosterd's tables are, made if missing; the connection's
 * search_path. */
static int
use_schema(struct pg_store *st, const char *schema, char *err, size_t errlen)
{
	char sql[512], *id = PQescapeIdentifier(st->conn, schema, strlen(schema));
	long long have = 0;
	int r;

	if (id == NULL)
		return -ENOMEM;
	/* (CREATE SCHEMA IF NOT EXISTS needs the right to create one, even
	 * when it exists) */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_namespace WHERE nspname = %s", id);
	for (char *p = strchr(sql, '"'); p != NULL; p = strchr(p, '"'))
		*p = '\'';
	r = query_ll(st, sql, &have);
	/* A run's set operations join and sort hundreds of thousands of rows:
	 * room for them in memory (the server's, not rosterd's), and no JIT
	 * compilation, which costs more than it saves on statements run once. */
	snprintf(sql, sizeof(sql), "%s%s%sSET search_path = %s; SET client_min_messages = warning; "
		 "SET TIME ZONE 'UTC'; SET work_mem = '64MB'; SET jit = off",
		 have ? "" : "CREATE SCHEMA ", have ? "" : id, have ? "" : "; ", id);
	PQfreemem(id);
	if (r < 0) {
		snprintf(err, errlen, "%s", st->errbuf);
		return r;
	}
	if ((r = exec_raw(st, sql)) < 0)
		snprintf(err, errlen, "cannot use the schema \"%s\" (does the role own it, or may "
			 "it create it?): %s", schema, st->errbuf);
	return r;
}

static int
open_checks(struct pg_store *st, int flags, char *err, size_t errlen)
{
	int v = pg_schema_version(&st->base);

	if (v < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s", st->errbuf);
		return -EIO;
	}
	if (flags & STORE_SAMESCHEMA) {
		if (v != schema_pg_count) {
			snprintf(err, errlen, "%s: schema version %d, this program knows %d%s",
				 st->where, v, schema_pg_count, v < schema_pg_count ?
				 " (the next run of rosterd migrates it)" : ": use a newer one");
			return -EPROTO;
		}
		return 0;
	}
	if (!(flags & STORE_NOMIGRATE))
		return pg_migrate(&st->base, err, errlen);
	if (v > schema_pg_count) {
		snprintf(err, errlen, "%s: schema version %d is newer than this rosterd knows (%d)",
			 st->where, v, schema_pg_count);
		return -EPROTO;
	}
	return 0;
}

int
store_pg_open(const struct store_dsn *where, int flags, struct store **out,
	      char *err, size_t errlen)
{
	const char *keys[] = { "dbname", "application_name", "password", NULL };
	char app[64];
	const char *vals[] = { where->url, app, where->password, NULL };
	struct pg_store *st = calloc(1, sizeof(*st));
	int r;

	/* pg_stat_activity names the process: "rosterd/PID" */
	snprintf(app, sizeof(app), "%s/%ld", program_invocation_short_name, (long)getpid());

	if (st == NULL || (st->where = url_shown(where->url)) == NULL) {
		free(st);
		return -ENOMEM;
	}
	st->base.ops = &pg_ops;
	if (where->password == NULL)
		keys[2] = NULL;
	st->conn = PQconnectdbParams(keys, vals, 1);
	if (st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK) {
		snprintf(err, errlen, "%s: %s", st->where,
			 st->conn ? PQerrorMessage(st->conn) : "out of memory");
		err[strcspn(err, "\n")] = '\0';
		r = -ECONNREFUSED;
		goto fail;
	}
	if ((r = use_schema(st, where->schema ? where->schema : "rosterd", err, errlen)) < 0 ||
	    (r = open_checks(st, flags, err, errlen)) < 0)
		goto fail;
	*out = &st->base;
	return 0;
fail:
	pg_close(&st->base);
	return r;
}

static void
pg_close(struct store *base)
{
	struct pg_store *st = PG(base);

	if (st->conn != NULL) {
		copy_end(st, true);
		finish_stream(st, true);
		if (PQstatus(st->conn) == CONNECTION_OK &&
		    PQtransactionStatus(st->conn) != PQTRANS_IDLE)
			PQclear(PQexec(st->conn, "ROLLBACK"));
		/* Given up now: the server would give them up only once it has
		 * dropped the session's temporary tables, after this returns,
		 * and the next run could find them held. */
		pg_unlock(base, STORE_LOCK_RUN);
		pg_unlock(base, STORE_LOCK_ACTIVE);
	}
	for (size_t b = 0; b < STMT_BUCKETS; b++) {
		struct pg_stmt *n;
		for (struct pg_stmt *s = st->bucket[b]; s != NULL; s = n) {
			n = s->next;
			stmt_free(s);
		}
	}
	for (size_t i = 0; i < st->npreds; i++) {
		free(st->preds[i].name);
		free(st->preds[i].domain);
	}
	PQfinish(st->conn);
	free(st->cbuf);
	free(st->where);
	free(st);
}

static const struct store_ops pg_ops = {
	.name = "postgresql",
	.close = pg_close,
	.migrate = pg_migrate,
	.schema_version = pg_schema_version,
	.errmsg = pg_errmsg,
	.exec = pg_exec,
	.changes = pg_changes,
	.last_id = pg_last_id,
	.total_changes = pg_total_changes,
	.begin = pg_begin,
	.begin_temp = pg_begin_temp,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.in_txn = pg_in_txn,
	.conflicted = pg_conflicted,
	.checkpoint = pg_checkpoint,
	.lock = pg_lock,
	.unlock = pg_unlock,
	.ping = pg_ping,
	.prepare = pg_prepare,
	.done = pg_done,
	.reset = pg_reset,
	.bind = pg_bind,
	.param = pg_param,
	.step = pg_step,
	.run = pg_run,
	.columns = pg_columns,
	.column_name = pg_column_name,
	.type = pg_type,
	.col_int = pg_int,
	.col_double = pg_double,
	.col_text = pg_text,
	.col_blob = pg_blob,
	.col_bytes = pg_bytes,
	.define_predicate = pg_define_predicate,
};
