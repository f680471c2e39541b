/*
 * store.c: what the store keeps for rosterd itself, written through the
 * statement API whichever driver is behind it: the state table (small values
 * by key). It logs nothing.
 */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

int
store_state_get(struct store *st, const char *key, char *buf, size_t len)
{
	struct stmt *s;
	int r;

	buf[0] = '\0';
	if (store_prepare(st, "SELECT coalesce(value, '') FROM state WHERE key = ?1", &s) < 0)
		return -EIO;
	stmt_bind_text(s, 1, key);
	r = stmt_step(s);
	if (r == 1) {
		const char *v = stmt_text(s, 0);
		size_t n = stmt_bytes(s, 0);

		if (n >= len || n > INT_MAX) {
			r = -ENOSPC;
		} else {
			memcpy(buf, v, n + 1);
			r = (int)n;
		}
	} else {
		r = r == 0 ? -ENOENT : -EIO;
	}
	stmt_done(s);
	return r;
}

int
store_state_put(struct store *st, const char *key, const char *value)
{
	struct stmt *s;
	int r;

	/* SQLite: INSERT OR REPLACE */
	if (store_prepare(st, value ? "INSERT OR REPLACE INTO state (key, value) VALUES (?1, ?2)"
			  : "DELETE FROM state WHERE key = ?1", &s) < 0)
		return -EIO;
	stmt_bind_text(s, 1, key);
	if (value != NULL)
		stmt_bind_text(s, 2, value);
	r = stmt_run(s) < 0 ? -EIO : 0;
	stmt_done(s);
	return r;
}
