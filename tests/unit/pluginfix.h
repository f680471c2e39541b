/*
 * pluginfix.h: what the plugin tests share: a real store file, a real
 * rosterd.conf listing real plugins (the build's own .so files, loaded with
 * dlopen by the real host), and runs driven through the host's API the way
 * the sync drives it: begin in a write transaction, events, run end, commit
 * or roll back.
 */
#ifndef ROSTERD_PLUGINFIX_H
#define ROSTERD_PLUGINFIX_H

#include "storefix.h"

#include <libgen.h>
#include <rosterd/plugin.h>

struct fixture {
	char *dir;
	struct store *st;
	struct conf *cf;
	struct plugins *h;
	char pdir[512];            /* the build's plugins/ */
	char tdir[512];            /* the build's tests/plugins/ */
	char conf[600];
	char err[8192];
	long long run_id;
	bool complete;
	char now[32];
};

static inline int
fx_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char exe[512], *d;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	assert_true(n > 0);
	exe[n] = '\0';
	d = dirname(exe);          /* BUILD/tests */
	snprintf(fx->tdir, sizeof(fx->tdir), "%s/plugins", d);
	snprintf(fx->pdir, sizeof(fx->pdir), "%s/../plugins", d);
	/* Under the build tree, not /tmp: rosterd loads no plugin from a
	 * directory that others may write to (the tests copy some there). */
	snprintf(fx->conf, sizeof(fx->conf), "%s/trusted", d);
	assert_true(mkdir(fx->conf, 0755) == 0 || errno == EEXIST);
	strncat(fx->conf, "/unit.XXXXXX", sizeof(fx->conf) - strlen(fx->conf) - 1);
	assert_non_null(mkdtemp(fx->conf));
	assert_int_equal(chmod(fx->conf, 0755), 0);
	fx->dir = strdup(fx->conf);
	fx->st = store_fresh(fx->dir);
	snprintf(fx->conf, sizeof(fx->conf), "%s/rosterd.conf", fx->dir);
	snprintf(fx->now, sizeof(fx->now), "2026-06-01T10:00:00Z");
	*state = fx;
	return 0;
}

static inline void
fx_unload(struct fixture *fx)
{
	plugins_free(fx->h);
	fx->h = NULL;
	conf_free(fx->cf);
	fx->cf = NULL;
}

static inline int
fx_teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->h != NULL)
		plugins_end(fx->h);
	store_rollback(fx->st);
	fx_unload(fx);
	store_close(fx->st);
	tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

/* Write rosterd.conf with plugins = ( entries ) (and custom fields) and
 * load it and its plugins: conf_load's or plugins_load's result, with the
 * messages in fx->err. */
static inline int
fx_load_custom(struct fixture *fx, const char *custom, const char *entries)
{
	char *text = NULL, *path;
	int r;

	fx_unload(fx);
	assert_true(asprintf(&text,
		"ldap = {\n"
		"  uri = \"ldap://127.0.0.1:3389\";\n"
		"  users = { base = \"ou=people,dc=example,dc=com\"; };\n"
		"  attributes = { custom = { %s }; };\n"
		"};\n"
		"store = { path = \"learning.db\"; };\n"
		"plugins = (\n%s\n);\n", custom, entries) > 0);
	path = file_write(fx->dir, "rosterd.conf", text, 0640);
	free(text);
	free(path);
	fx->err[0] = '\0';
	r = conf_load(fx->conf, 0, &fx->cf, fx->err, sizeof(fx->err));
	if (r < 0)
		return r;
	return plugins_load(fx->cf, &fx->h, fx->err, sizeof(fx->err));
}

static inline int
fx_load(struct fixture *fx, const char *entries)
{
	return fx_load_custom(fx, "cost_centre = \"departmentNumber\";", entries);
}

/* Load and fail the test when it does not load. */
#define LOAD(fx, ...) do { \
	char *e_ = NULL; \
	assert_true(asprintf(&e_, __VA_ARGS__) > 0); \
	if (fx_load((fx), e_) != 0) \
		fail_msg("plugins did not load:\n%s", (fx)->err); \
	free(e_); \
} while (0)

/* Begin a run at time now (NULL: keep fx->now): a sync_runs row as the
 * sync writes it, the write transaction, plugins_begin. */
static inline void
fx_begin(struct fixture *fx, const char *now, bool complete)
{
	struct plugin_run run = { .st = fx->st, .complete = complete };

	if (now != NULL)
		snprintf(fx->now, sizeof(fx->now), "%s", now);
	fx->complete = complete;
	assert_int_equal(store_run_start(fx->st, fx->now, &fx->run_id), 0);
	assert_int_equal(store_begin(fx->st), 0);
	run.now = fx->now;
	run.run_id = fx->run_id;
	if (plugins_begin(fx->h, &run) != 0)
		fail_msg("plugins_begin: %s", plugins_error(fx->h));
}

/* One event for username (changed: UPDATED's field list; group: a group
 * name for JOINED/LEFT); plugins_event's result. */
static inline int
fx_event(struct fixture *fx, int kind, const char *username, const char *extra)
{
	struct plugin_event ev = { .kind = kind };

	ev.person_id = sql_int(fx->st, "SELECT id FROM people WHERE username = '%s'", username);
	assert_true(ev.person_id > 0);
	if (kind == ROSTERD_EV_UPDATED)
		ev.changed = extra;
	if (kind == ROSTERD_EV_GROUP_JOINED || kind == ROSTERD_EV_GROUP_LEFT)
		ev.group_id = sql_int(fx->st, "SELECT id FROM groups WHERE name = '%s'", extra);
	if (kind == ROSTERD_EV_REAPPEARED)
		ev.flags = extra && strcmp(extra, "flag") == 0 ? ROSTERD_BACK_FLAG_CLEARED :
			ROSTERD_BACK_PRESENT;
	return plugins_event(fx->h, &ev);
}

#define EVENT(fx, kind, user, extra) do { \
	if (fx_event((fx), (kind), (user), (extra)) != 0) \
		fail_msg("event %d of %s: %s", (kind), (user), plugins_error((fx)->h)); \
} while (0)

/* End the run: run end, then commit (recording the run as ok, as the sync
 * does) or roll back. */
static inline void
fx_end(struct fixture *fx, bool commit)
{
	if (plugins_run_end(fx->h) != 0)
		fail_msg("plugins_run_end: %s", plugins_error(fx->h));
	if (commit) {
		sqlf(fx->st, "UPDATE sync_runs SET outcome = '%s', finished_at = '%s' WHERE id = %lld",
		     fx->complete ? "ok" : "incomplete", fx->now, fx->run_id);
		assert_int_equal(store_commit(fx->st), 0);
	} else {
		assert_int_equal(store_rollback(fx->st), 0);
	}
	plugins_end(fx->h);
}

/* A whole run with no events. */
static inline void
fx_quiet_run(struct fixture *fx, const char *now, bool complete)
{
	fx_begin(fx, now, complete);
	fx_end(fx, true);
}

#endif
