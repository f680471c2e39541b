/*
 * store_pg_sql.c: SQLite's dialect of the modules' SQL in PostgreSQL's form
 * (store_pg_sql.h says what is rewritten). The text is cut into tokens;
 * each rule looks at a token and the ones after it, skipping white space
 * and comments, and writes the result into a growing buffer.
 */
#include "store_pg_sql.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum tok_kind { T_SPACE, T_WORD, T_STRING, T_QUOTED, T_NUMBER, T_PARAM, T_PUNCT, T_END };

struct tok {
	enum tok_kind kind;
	const char *p;
	size_t n;
};

struct rw {
	struct tok *t;
	size_t nt;
	char *out;
	size_t len, cap;
	int err;
	struct pg_sql *q;
	const char *const *preds;
	size_t npreds;
	int aliases;
};

/* ---- tokens ------------------------------------------------------------------ */

static size_t
tok_len(const char *s, enum tok_kind *kind)
{
	const char *p = s;

	if (isspace((unsigned char)*p)) {
		while (isspace((unsigned char)*p))
			p++;
		*kind = T_SPACE;
	} else if (p[0] == '-' && p[1] == '-') {
		while (*p && *p != '\n')
			p++;
		*kind = T_SPACE;
	} else if (p[0] == '/' && p[1] == '*') {
		const char *e = strstr(p + 2, "*/");
		p = e ? e + 2 : p + strlen(p);
		*kind = T_SPACE;
	} else if (*p == '\'' || *p == '"') {
		char qc = *p++;
		for (; *p; p++)
			if (*p == qc) {
				if (p[1] != qc)
					break;
				p++;
			}
		p += *p != '\0';
		*kind = qc == '\'' ? T_STRING : T_QUOTED;
	} else if (isalpha((unsigned char)*p) || *p == '_' || (unsigned char)*p >= 0x80) {
		while (isalnum((unsigned char)*p) || *p == '_' || (unsigned char)*p >= 0x80)
			p++;
		*kind = T_WORD;
	} else if (isdigit((unsigned char)*p)) {
		while (isalnum((unsigned char)*p) || *p == '.')
			p++;
		*kind = T_NUMBER;
	} else if (*p == '?') {
		for (p++; isdigit((unsigned char)*p); p++)
			;
		*kind = T_PARAM;
	} else if ((*p == ':' || *p == '@' || *p == '$') &&
		   (isalpha((unsigned char)p[1]) || p[1] == '_')) {
		for (p++; isalnum((unsigned char)*p) || *p == '_'; p++)
			;
		*kind = T_PARAM;
	} else {
		static const char *const two[] = { "||", "<>", "<=", ">=", "!=", "==", "::" };
		*kind = T_PUNCT;
		for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++)
			if (strncmp(p, two[i], 2) == 0)
				return 2;
		return 1;
	}
	return (size_t)(p - s);
}

static int
tokenize(const char *sql, struct rw *w)
{
	size_t cap = 64;

	if ((w->t = malloc(cap * sizeof(*w->t))) == NULL)
		return -ENOMEM;
	for (const char *p = sql;; ) {
		struct tok t = { .kind = T_END, .p = p, .n = 0 };

		if (*p != '\0')
			t.n = tok_len(p, &t.kind);
		if (w->nt == cap) {
			struct tok *n = realloc(w->t, 2 * cap * sizeof(*n));
			if (n == NULL)
				return -ENOMEM;
			w->t = n;
			cap *= 2;
		}
		w->t[w->nt++] = t;
		if (t.kind == T_END)
			return 0;
		p += t.n;
	}
}

/* The next token after i that is not space (the end at worst). */
static size_t
next(const struct rw *w, size_t i)
{
	for (i++; i < w->nt - 1 && w->t[i].kind == T_SPACE; i++)
		;
	return i < w->nt ? i : w->nt - 1;
}

static bool
is(const struct rw *w, size_t i, const char *word)
{
	const struct tok *t = &w->t[i];

	if (t->kind != T_WORD && t->kind != T_PUNCT)
		return false;
	return strlen(word) == t->n && strncasecmp(t->p, word, t->n) == 0;
}

/* The token closing the parenthesis at open, or the end. */
static size_t
closing(const struct rw *w, size_t open)
{
	int depth = 0;

	for (size_t i = open; i < w->nt - 1; i++) {
		if (is(w, i, "("))
			depth++;
		else if (is(w, i, ")") && --depth == 0)
			return i;
	}
	return w->nt - 1;
}

/* ---- output ------------------------------------------------------------------ */

static void
put(struct rw *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		char *o;

		while (cap < w->len + n + 1)
			cap *= 2;
		if ((o = realloc(w->out, cap)) == NULL) {
			w->err = -ENOMEM;
			return;
		}
		w->out = o;
		w->cap = cap;
	}
	memcpy(w->out + w->len, s, n);
	w->len += n;
	w->out[w->len] = '\0';
}

static void
puts_(struct rw *w, const char *s)
{
	put(w, s, strlen(s));
}

static void emit_range(struct rw *w, size_t from, size_t to);

/* ---- the rules ------------------------------------------------------------------ */

/* A parameter: its number, naming a name the first time it is seen. */
static void
emit_param(struct rw *w, const struct tok *t)
{
	struct pg_sql *q = w->q;
	char buf[16];
	int n = 0;

	if (t->n > 1 && t->p[0] == '?') {
		n = atoi(t->p + 1);
	} else if (t->n == 1) {
		n = q->nparams + 1;
	} else {
		for (int i = 0; i < q->nparams; i++)
			if (q->names[i] && strlen(q->names[i]) == t->n &&
			    strncmp(q->names[i], t->p, t->n) == 0)
				n = i + 1;
		if (n == 0 && q->nparams < PG_SQL_MAX_PARAMS) {
			n = q->nparams + 1;
			if ((q->names[n - 1] = strndup(t->p, t->n)) == NULL)
				w->err = -ENOMEM;
		}
	}
	if (n <= 0 || n > PG_SQL_MAX_PARAMS) {
		w->err = -EINVAL;
		return;
	}
	if (n > q->nparams)
		q->nparams = n;
	snprintf(buf, sizeof(buf), "$%d", n);
	puts_(w, buf);
}

/* The predicate a word names, or -1. */
static int
predicate(const struct rw *w, const struct tok *t)
{
	for (size_t i = 0; i < w->npreds; i++)
		if (strlen(w->preds[i]) == t->n && strncasecmp(w->preds[i], t->p, t->n) == 0)
			return (int)i;
	return -1;
}

/* The top-level commas of the call whose "(" is at open: their positions
 * in at (at most max), and how many. */
static size_t
commas(const struct rw *w, size_t open, size_t close, size_t *at, size_t max)
{
	size_t n = 0;
	int depth = 0;

	for (size_t i = open + 1; i < close; i++) {
		if (is(w, i, "("))
			depth++;
		else if (is(w, i, ")"))
			depth--;
		else if (depth == 0 && is(w, i, ",") && n < max)
			at[n++] = i;
	}
	return n;
}

/* A call name(...) at i, its "(" at open: rewritten, or false to leave it. */
static bool
emit_call(struct rw *w, size_t i, size_t open, size_t *resume)
{
	const struct tok *t = &w->t[i];
	size_t close = closing(w, open), at[2];
	size_t nc = commas(w, open, close, at, 2);
	int p;

	*resume = close + 1;
	if ((p = predicate(w, t)) >= 0) {
		char tail[192];
		w->q->preds |= 1u << p;
		puts_(w, "coalesce(((");
		emit_range(w, open + 1, close);
		snprintf(tail, sizeof(tail), ") IN (SELECT v FROM pg_temp.rosterd_pred_%s)) <> "
			 "(SELECT inv FROM pg_temp.rosterd_pred_%s_inv), false)", w->preds[p],
			 w->preds[p]);
		puts_(w, tail);
		return true;
	}
	if (is(w, i, "group_concat")) {
		puts_(w, "string_agg(CAST(");
		emit_range(w, open + 1, nc ? at[0] : close);
		puts_(w, " AS text), ");
		if (nc)
			emit_range(w, at[0] + 1, close);
		else
			puts_(w, "','");
		puts_(w, ")");
		return true;
	}
	if (is(w, i, "instr") && nc == 1) {
		/* (a column of the nondeterministic "nocase" is refused) */
		puts_(w, "strpos((");
		emit_range(w, open + 1, at[0]);
		puts_(w, ") COLLATE \"C\", (");
		emit_range(w, at[0] + 1, close);
		puts_(w, ") COLLATE \"C\")");
		return true;
	}
	if (is(w, i, "hex") && nc == 0) {
		puts_(w, "upper(encode(convert_to(CAST(");
		emit_range(w, open + 1, close);
		puts_(w, " AS text), 'UTF8'), 'hex'))");
		return true;
	}
	if ((is(w, i, "max") || is(w, i, "min")) && nc > 0)
		puts_(w, is(w, i, "max") ? "greatest" : "least");
	else if (is(w, i, "char"))
		puts_(w, "chr");
	else if (is(w, i, "ifnull"))
		puts_(w, "coalesce");
	else
		return false;
	emit_range(w, i + 1, close + 1);
	return true;
}

/* After "IS" at i: NOT DISTINCT FROM / DISTINCT FROM where b is a value. */
static size_t
emit_is(struct rw *w, size_t i)
{
	size_t j = next(w, i);
	bool not = is(w, j, "NOT");
	size_t k = not ? next(w, j) : j;

	if (is(w, k, "NULL") || is(w, k, "TRUE") || is(w, k, "FALSE") || is(w, k, "DISTINCT")) {
		put(w, w->t[i].p, w->t[i].n);
		return i + 1;
	}
	puts_(w, not ? "IS DISTINCT FROM" : "IS NOT DISTINCT FROM");
	return not ? j + 1 : i + 1;
}

/* Words after which a parenthesised subquery already has its alias. */
static bool
alias_follows(const struct rw *w, size_t i)
{
	static const char *const kw[] = {
		"WHERE", "ORDER", "GROUP", "LIMIT", "JOIN", "LEFT", "RIGHT", "INNER", "CROSS",
		"FULL", "NATURAL", "ON", "USING", "UNION", "EXCEPT", "INTERSECT", "HAVING",
		"WINDOW", "RETURNING", "OFFSET", "FOR",
	};
	if (is(w, i, "AS"))
		return true;
	if (w->t[i].kind == T_QUOTED)
		return true;
	if (w->t[i].kind != T_WORD)
		return false;
	for (size_t k = 0; k < sizeof(kw) / sizeof(kw[0]); k++)
		if (is(w, i, kw[k]))
			return false;
	return true;
}

/* "FROM (" or "JOIN (" at i, "(" at open, a subquery: given an alias when
 * it has none. */
static size_t
emit_subquery(struct rw *w, size_t i, size_t open)
{
	size_t close = closing(w, open);
	char alias[32];

	put(w, w->t[i].p, w->t[i].n);
	emit_range(w, i + 1, close + 1);
	if (!alias_follows(w, next(w, close))) {
		snprintf(alias, sizeof(alias), " AS rosterd_q%d", ++w->aliases);
		puts_(w, alias);
	}
	return close + 1;
}

/* One token at i (and what a rule takes after it): the index to go on at. */
static size_t
emit_one(struct rw *w, size_t i)
{
	const struct tok *t = &w->t[i];
	size_t j = next(w, i), k, resume;

	if (t->kind == T_PARAM) {
		emit_param(w, t);
		return i + 1;
	}
	if (t->kind != T_WORD) {
		put(w, t->p, t->n);
		return i + 1;
	}
	if (is(w, i, "temp") && is(w, j, ".")) {
		puts_(w, "pg_temp");
		return i + 1;
	}
	if (is(w, i, "INDEXED") && is(w, j, "BY"))
		return next(w, j) + 1;
	if (is(w, i, "NOT") && is(w, j, "INDEXED"))
		return j + 1;
	if (is(w, i, "COLLATE") && is(w, j, "BINARY")) {
		puts_(w, "COLLATE \"C\"");
		return j + 1;
	}
	if (is(w, i, "INSERT") && is(w, j, "OR") &&
	    (is(w, next(w, j), "IGNORE") || is(w, next(w, j), "REPLACE"))) {
		puts_(w, "INSERT");   /* OR IGNORE: ON CONFLICT DO NOTHING at the end */
		return next(w, j) + 1;
	}
	if (is(w, i, "CROSS") && is(w, j, "JOIN")) {
		int depth = 0;
		for (k = next(w, j); k < w->nt - 1; k = next(w, k)) {
			if (is(w, k, "("))
				depth++;
			else if (is(w, k, ")") && --depth < 0)
				break;
			if (depth == 0 && (is(w, k, "ON") || is(w, k, "JOIN") || is(w, k, "WHERE")))
				break;
		}
		if (is(w, k, "ON"))
			return j;   /* JOIN ... ON */
	}
	if (is(w, i, "IS"))
		return emit_is(w, i);
	/* (COLLATE binds tighter than LIKE: the "C" of the left operand lets
	 * a column of the nondeterministic "nocase" be matched) */
	if (is(w, i, "LIKE")) {
		puts_(w, "COLLATE \"C\" ILIKE");
		return i + 1;
	}
	if (is(w, i, "NOT") && is(w, j, "LIKE")) {
		puts_(w, "COLLATE \"C\" NOT ILIKE");
		return j + 1;
	}
	if (is(w, i, "rowid")) {
		puts_(w, "ctid");
		return i + 1;
	}
	if ((is(w, i, "FROM") || is(w, i, "JOIN")) && is(w, j, "(") &&
	    (is(w, next(w, j), "SELECT") || is(w, next(w, j), "WITH")))
		return emit_subquery(w, i, j);
	if (is(w, j, "(") && emit_call(w, i, j, &resume))
		return resume;
	put(w, t->p, t->n);
	return i + 1;
}

static void
emit_range(struct rw *w, size_t from, size_t to)
{
	for (size_t i = from; i < to && i < w->nt - 1 && !w->err; )
		i = emit_one(w, i);
}

/* Whether the statement is INSERT OR IGNORE. */
static bool
insert_or_ignore(const struct rw *w)
{
	size_t i = w->t[0].kind == T_SPACE ? next(w, 0) : 0, j = next(w, i);

	return is(w, i, "INSERT") && is(w, j, "OR") && is(w, next(w, j), "IGNORE");
}

/* Whether the statement inserts one row of VALUES, with no ON CONFLICT,
 * RETURNING or SELECT of its own: PostgreSQL ends the transaction at a
 * unique violation, where SQLite goes on, so such an insert is done with
 * ON CONFLICT DO NOTHING and reports -EEXIST when it inserted nothing. */
static bool
single_insert(const struct rw *w)
{
	size_t i = w->t[0].kind == T_SPACE ? next(w, 0) : 0, rows = 0;
	int depth = 0;

	if (!is(w, i, "INSERT") || is(w, next(w, i), "OR"))
		return false;
	for (size_t k = i; k < w->nt - 1; k++) {
		if (is(w, k, "("))
			depth++;
		else if (is(w, k, ")"))
			depth--;
		else if (is(w, k, "ON") || is(w, k, "RETURNING") || is(w, k, "SELECT") ||
			 is(w, k, "DEFAULT") || is(w, k, ";"))
			return false;
		else if (is(w, k, "VALUES"))
			rows = 1;
		else if (rows > 0 && depth == 0 && is(w, k, ","))
			rows++;
	}
	return rows == 1;
}

int
pg_sql_rewrite(const char *sql, const char *const *preds, size_t npreds, struct pg_sql *q)
{
	struct rw w = { .q = q, .preds = preds, .npreds = npreds };
	int r;

	memset(q, 0, sizeof(*q));
	if (npreds > PG_SQL_MAX_PREDS)
		return -EINVAL;
	if ((r = tokenize(sql, &w)) == 0) {
		emit_range(&w, 0, w.nt - 1);
		if (insert_or_ignore(&w))
			puts_(&w, " ON CONFLICT DO NOTHING");
		else if ((q->eexist_on_none = single_insert(&w)))
			puts_(&w, " ON CONFLICT DO NOTHING");
		if (w.out == NULL && !w.err)
			puts_(&w, "");
		r = w.err;
	}
	free(w.t);
	if (r < 0) {
		free(w.out);
		pg_sql_free(q);
		return r;
	}
	q->text = w.out;
	return 0;
}

void
pg_sql_free(struct pg_sql *q)
{
	free(q->text);
	for (int i = 0; i < PG_SQL_MAX_PARAMS; i++)
		free(q->names[i]);
	memset(q, 0, sizeof(*q));
}

size_t
pg_sql_statement(const char *sql)
{
	const char *p = sql;
	enum tok_kind kind;

	while (*p != '\0') {
		size_t n = tok_len(p, &kind);
		p += n;
		if (kind == T_PUNCT && p[-1] == ';')
			break;
	}
	return (size_t)(p - sql);
}
