/*
 * store.c: what the store keeps for rosterd itself, written through the
 * statement API whichever driver is behind it: the state table (small values
 * by key), and the usernames' comparison keys of the rows stored before
 * there were keys (a migration's C part). It logs nothing.
 */
#include "store.h"
#include "fold.h"

#include <stdlib.h>

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

	if (store_prepare(st, value ? "INSERT INTO state (key, value) VALUES (?1, ?2) "
			  "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
			  : "DELETE FROM state WHERE key = ?1", &s) < 0)
		return -EIO;
	stmt_bind_text(s, 1, key);
	if (value != NULL)
		stmt_bind_text(s, 2, value);
	r = stmt_run(s) < 0 ? -EIO : 0;
	stmt_done(s);
	return r;
}

/* Rows the backfill of the username keys reads at a time: it writes the
 * table it reads, so it reads a batch, closes the read, then writes. */
#define KEY_BATCH 512

/* Key the batch of people after id *last (at most KEY_BATCH): 0 with *last
 * the last id read (unchanged when there were none), or a negative error.
 * A username that is blank or not UTF-8, or whose key a row has already,
 * keeps no key. */
static int
username_keys_batch(struct store *st, long long *last)
{
	long long ids[KEY_BATCH];
	char *names[KEY_BATCH];
	struct stmt *s, *u = NULL;
	size_t n = 0;
	int r;

	if ((r = store_prepare(st, "SELECT id, username FROM people WHERE id > ?1 "
			       "ORDER BY id LIMIT ?2", &s)) < 0)
		return r;
	stmt_bind_int(s, 1, *last);
	stmt_bind_int(s, 2, KEY_BATCH);
	while (n < KEY_BATCH && (r = stmt_step(s)) == 1) {
		ids[n] = stmt_int(s, 0);
		if ((names[n] = strdup(stmt_text(s, 1))) == NULL) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	stmt_done(s);
	if (r >= 0 && n > 0)
		r = store_prepare(st, "UPDATE people SET username_key = ?1 WHERE id = ?2 AND NOT "
				  "EXISTS (SELECT 1 FROM people WHERE username_key = ?1)", &u);
	for (size_t i = 0; i < n && r >= 0; i++) {
		char *key = NULL;

		r = username_key(names[i], strlen(names[i]), &key);
		if (r == 0 && key[0] != '\0') {
			stmt_bind_text(u, 1, key);
			stmt_bind_int(u, 2, ids[i]);
			r = stmt_run(u) < 0 ? -EIO : 0;
			stmt_reset(u);
		} else if (r == -EILSEQ) {
			r = 0;
		}
		free(key);
	}
	stmt_done(u);
	if (r >= 0 && n > 0)
		*last = ids[n - 1];
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return r < 0 ? r : 0;
}

int
store_username_keys(struct store *st)
{
	long long last = 0, before;
	int r;

	do {
		before = last;
		if ((r = username_keys_batch(st, &last)) < 0)
			return r;
	} while (last != before);
	return 0;
}
