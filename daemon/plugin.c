/*
 * plugin.c: the plugin host. Loads the rule plugins rosterd.conf lists, in
 * order, refusing any it cannot trust (not a regular file, writable by group
 * or others, another ABI major, a descriptor too small); hands them the events
 * of each run with read-only views of the people and groups (read through
 * view.h, as rosterctl reads them); and carries out what they decide through
 * actions.c, inside the run's transaction, audited with their name. Plugins
 * see neither SQL nor LDAP: only include/rosterd/plugin.h.
 *
 * Sanitizer builds open plugins with RTLD_NODELETE: an unloaded plugin's
 * frames in a leak report could no longer be symbolized, and the report
 * would be useless exactly when it matters. Other builds dlclose them.
 */
#include "log.h"
#include "util.h"
#include "actions.h"
#include "setting.h"
#include "view.h"
#include "plugins.h"
#include "schema.h"

#include <stdio.h>
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <limits.h>
#include <unistd.h>

#include "rosterd/plugin.h"

#if defined(__SANITIZE_ADDRESS__)
#define DL_KEEP RTLD_NODELETE
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DL_KEEP RTLD_NODELETE
#endif
#endif
#ifndef DL_KEEP
#define DL_KEEP 0
#endif

/* The smallest descriptor of ABI 1: up to fini. */
#define DESC_MIN_SIZE (offsetof(struct rosterd_plugin, fini) + sizeof(void (*)(void *)))

struct plugin {
	struct rosterd_ctx ctx;          /* first: the handle the plugin holds */
	struct plugins *h;
	char *name, *actor, *path;
	const struct conf_plugin *cp;
	void *dl;
	const struct rosterd_plugin *desc;
	void *state;
	bool inited, reported;
};

/* A person as a plugin sees them, with what the view owns. */
struct view {
	struct rosterd_person pub;
	struct view_person *p;           /* what pub's strings point into */
	char **groups;
	size_t ngroups;
	bool groups_loaded;
	char **fields;                   /* values handed out by person_field */
	size_t nfields;
};

struct course_def {
	char *code, *title;
	long long limit;
	struct plugin *owner;
};

struct plugins {
	const struct conf *cf;
	struct plugin *p;
	size_t n;
	struct course_def *courses;
	size_t ncourses;
	char err[8192];                  /* loading problems, or the run's error */

	/* the current run */
	struct store *st;
	struct act *act;
	char now[32];
	long long run_id;
	bool complete, dry_run, batch, in_run, in_init, in_foreach;
	struct plugin *calling;          /* whose callback is running */
	int last_kind;
	int fatal;                       /* a store failure: the run fails */
	long long audit_mark;
	struct view *live[2];            /* the views a plugin may pass back */
	/* What consecutive events share: the person of the last event (read
	 * again once an action may have changed them), and the groups read
	 * this run, by id (no action changes a group). */
	struct view *event_view;
	bool acted;
	struct view_group **groups;
	size_t ngroups;
};

static const struct rosterd_host host_table;

static struct plugin *
plugin_of(struct rosterd_ctx *ctx)
{
	return (struct plugin *)ctx;
}

static void errf(struct plugins *h, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Append one line to h->err. */
static void
errf(struct plugins *h, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	str_appendf(h->err, sizeof(h->err), "%s%s", h->err[0] ? "\n" : "", line);
}

/* ---- views --------------------------------------------------------------------- */

static void
view_free(struct view *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->ngroups; i++)
		free(v->groups[i]);
	free(v->groups);
	for (size_t i = 0; i < v->nfields; i++)
		free(v->fields[i]);
	free(v->fields);
	view_person_free(v->p);
	free(v);
}

/* The error the host reports for a store failure of view.h: -ENOENT and
 * -ENOMEM as they are, anything else -EIO (store_errmsg says why). */
static int
store_error(int r)
{
	return r == -ENOENT || r == -ENOMEM ? r : -EIO;
}

/* Read person id, as this run sees them, into a new view: 0, -ENOENT,
 * -ENOMEM or -EIO. */
static int
view_load(struct plugins *h, long long id, struct view **out)
{
	const struct view_run run = { .now = h->now, .run_id = h->run_id,
				      .complete = h->complete, .batch = h->batch };
	struct view_person *p;
	struct view *v;
	int r = view_person(h->st, id, &run, &p);

	if (r < 0)
		return store_error(r);
	if ((v = calloc(1, sizeof(*v))) == NULL) {
		view_person_free(p);
		return -ENOMEM;
	}
	v->p = p;
	v->pub = (struct rosterd_person){
		.size = sizeof(v->pub),
		.username = p->username, .email = p->email, .given_name = p->given_name,
		.family_name = p->family_name, .display_name = p->display_name,
		.employee_number = p->employee_number, .department = p->department,
		.location = p->location, .title = p->title, .role = p->role,
		.status = p->status, .status_reason = p->status_reason,
		.status_since = p->status_since, .manager = p->manager,
		.secondary_manager = p->secondary_manager, .dn = p->dn,
		.dir_disabled = p->dir_disabled, .missing_since = p->missing_since,
		.missing_days = p->missing_days, .missing_runs = p->missing_runs,
		.member_since = p->member_since,
	};
	*out = v;
	return 0;
}

/* The live view that p is, or NULL when a plugin passes something else. */
static struct view *
view_of(struct plugins *h, const struct rosterd_person *p)
{
	for (size_t i = 0; i < sizeof(h->live) / sizeof(h->live[0]); i++)
		if (h->live[i] != NULL && &h->live[i]->pub == p)
			return h->live[i];
	return NULL;
}

/* ---- host functions: actions ---------------------------------------------------- */

static void host_log(struct rosterd_ctx *ctx, int level, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* Log for plugin p with the journal fields ROSTERD_PLUGIN and, when known,
 * ROSTERD_USER (the person acted on, else the person of the event). */
static void PRINTF_LIKE(4, 5)
plog(const struct plugin *p, enum log_level lvl, const char *user, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (user == NULL && p->h->live[0] != NULL)
		user = p->h->live[0]->pub.username;
	log_fields(lvl, &(struct log_ctx){ .plugin = p->name, .user = user }, "plugin %s: %s",
		   p->name, text);
}

static void
host_log(struct rosterd_ctx *ctx, int level, const char *fmt, ...)
{
	struct plugin *p = plugin_of(ctx);
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (level < LOGL_ERR)
		level = LOGL_ERR;
	if (level > LOGL_DEBUG)
		level = LOGL_DEBUG;
	plog(p, (enum log_level)level, NULL, "%s", text);
}

/* Make the person's id ready for an action of plugin p, whose other
 * argument arg must not be NULL either: 0, or an error. */
static int
action_begin(struct plugin *p, const char *username, const void *arg, long long *id)
{
	struct plugins *h = p->h;
	int r;

	if (!h->in_run || h->calling != p)
		return -ENOTCONN;
	if (username == NULL || arg == NULL)
		return -EINVAL;
	act_set_actor(h->act, p->actor);
	h->acted = true;
	r = act_find_person(h->act, username, id);
	if (r == -EIO)
		h->fatal = r;
	else if (r < 0)
		plog(p, LOGL_WARN, username, "%s", act_message(h->act));
	return r;
}

/* The result of an action for the plugin: "nothing to do" is success; a
 * refusal is logged; a store failure fails the run whatever the plugin does. */
static int
action_end(struct plugin *p, const char *what, int r)
{
	if (r == ACT_NOCHANGE)
		return 0;
	if (r == -EIO) {
		p->h->fatal = r;
		return r;
	}
	if (r < 0)
		plog(p, LOGL_WARN, NULL, "%s refused: %s", what, act_message(p->h->act));
	return r;
}

static int
host_assign_until(struct rosterd_ctx *ctx, const char *username, const char *course,
		  const char *due, const char *expires, int recur_days)
{
	struct plugin *p = plugin_of(ctx);
	long long id;
	int r = action_begin(p, username, course, &id);

	return r < 0 ? r : action_end(p, "assign", act_assign_until(p->h->act, id, course, due,
								     expires, recur_days));
}

static int
host_assign(struct rosterd_ctx *ctx, const char *username, const char *course,
	    const char *due, int recur_days)
{
	return host_assign_until(ctx, username, course, due, NULL, recur_days);
}

static int
host_unassign(struct rosterd_ctx *ctx, const char *username, const char *course)
{
	struct plugin *p = plugin_of(ctx);
	long long id;
	int r = action_begin(p, username, course, &id);

	if (r < 0)
		return r;
	r = act_unassign(p->h->act, id, course, true);
	/* Started training stays; that is not the plugin's failure. */
	if (r == -EBUSY || r == -ENOENT) {
		plog(p, LOGL_DEBUG, username, "%s", act_message(p->h->act));
		return 0;
	}
	return action_end(p, "unassign", r);
}

static int
host_status(struct rosterd_ctx *ctx, const char *username, enum act_op op, const char *what,
	    const char *why)
{
	struct plugin *p = plugin_of(ctx);
	long long id;
	int r = action_begin(p, username, username, &id);

	if (r < 0)
		return r;
	/* An incomplete read never disables or archives anyone. */
	if ((op == ACT_DISABLE || op == ACT_ARCHIVE) && !p->h->complete) {
		plog(p, LOGL_WARN, username, "%s %s refused: the directory read was incomplete",
		     what, username);
		return -EAGAIN;
	}
	return action_end(p, what, act_status(p->h->act, id, op, why));
}

static int
host_disable(struct rosterd_ctx *ctx, const char *username, const char *why)
{
	return host_status(ctx, username, ACT_DISABLE, "disable", why);
}

static int
host_enable(struct rosterd_ctx *ctx, const char *username, const char *why)
{
	return host_status(ctx, username, ACT_ENABLE, "enable", why);
}

static int
host_archive(struct rosterd_ctx *ctx, const char *username, const char *why)
{
	return host_status(ctx, username, ACT_ARCHIVE, "archive", why);
}

static int
host_set_field(struct rosterd_ctx *ctx, const char *username, const char *name,
	       const char *value)
{
	struct plugin *p = plugin_of(ctx);
	const struct conf *cf = p->h->cf;
	long long id;
	int r = action_begin(p, username, name, &id);

	if (r < 0)
		return r;
	for (size_t i = 0; i < cf->ldap.ncustom; i++)
		if (strcmp(cf->ldap.custom[i].name, name) == 0) {
			plog(p, LOGL_WARN, username, "set_field %s refused: the directory fills %s "
			     "(ldap.attributes.custom)", name, name);
			return -EPERM;
		}
	return action_end(p, "set_field", act_set_field(p->h->act, id, name, value));
}

static int
host_notify(struct rosterd_ctx *ctx, const char *username, const char *kind,
	    const char *message)
{
	struct plugin *p = plugin_of(ctx);
	long long id;
	int r = action_begin(p, username, kind, &id);

	return r < 0 ? r : action_end(p, "notify", act_notify(p->h->act, id, kind, message));
}

/* ---- host functions: settings --------------------------------------------------- */

static int host_setting_error(struct rosterd_ctx *ctx, const struct rosterd_setting *s,
			      const char *fmt, ...) PRINTF_LIKE(3, 4);

static int
host_setting_error(struct rosterd_ctx *ctx, const struct rosterd_setting *s, const char *fmt,
		   ...)
{
	struct plugin *p = plugin_of(ctx);
	const struct config_setting_t *where = s ? (const struct config_setting_t *)s :
		p->cp->setting;
	char path[256], text[1024];
	unsigned line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	conf_setting_where(where, path, sizeof(path), &line);
	errf(p->h, "%s:%u: %s: %s", p->h->cf->path, line, path, text);
	p->reported = true;
	return -EINVAL;
}

static int
host_setting_check(struct rosterd_ctx *ctx, const struct rosterd_setting *s,
		   const char *const *known)
{
	struct plugin *p = plugin_of(ctx);
	bool root = (const struct config_setting_t *)s == p->cp->setting;
	int n = 0;

	for (int i = 0; i < setting_count(s); i++) {
		const struct rosterd_setting *m = setting_at(s, i);
		const char *name = setting_name(m);
		bool ok = name == NULL ||
			(root && (strcmp(name, "name") == 0 || strcmp(name, "path") == 0));

		for (const char *const *k = known; !ok && k && *k; k++)
			ok = strcmp(*k, name) == 0;
		if (!ok) {
			host_setting_error(ctx, m, "unknown key");
			n++;
		}
	}
	return n;
}

/* ---- host functions: reading ------------------------------------------------------ */

static const char *
host_person_field(struct rosterd_ctx *ctx, const struct rosterd_person *person,
		  const char *name)
{
	struct plugins *h = plugin_of(ctx)->h;
	struct view *v = view_of(h, person);
	char *copy = NULL, **grown;
	int r;

	if (v == NULL || name == NULL || h->st == NULL)
		return NULL;
	if ((r = view_person_field(h->st, v->p->id, name, &copy)) < 0) {
		if (store_error(r) == -EIO)
			h->fatal = -EIO;
		return NULL;
	}
	grown = realloc(v->fields, (v->nfields + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(copy);
		return NULL;
	}
	v->fields = grown;
	v->fields[v->nfields++] = copy;
	return copy;
}

/* view_person_groups: add the name to the view arg's NULL-ended list. */
static int
add_group(const char *name, void *arg)
{
	struct view *v = arg;
	char **grown = realloc(v->groups, (v->ngroups + 2) * sizeof(*grown));

	if (grown == NULL)
		return -ENOMEM;
	v->groups = grown;
	if ((v->groups[v->ngroups] = strdup(name)) == NULL)
		return -ENOMEM;
	v->groups[++v->ngroups] = NULL;
	return 0;
}

static int
host_person_groups(struct rosterd_ctx *ctx, const struct rosterd_person *person,
		   const char *const **names, size_t *n)
{
	struct plugins *h = plugin_of(ctx)->h;
	struct view *v = view_of(h, person);
	int r;

	if (v == NULL || names == NULL || n == NULL)
		return -EINVAL;
	if (!v->groups_loaded) {
		/* Deleted groups too, as long as the sync keeps the membership. */
		if ((r = view_person_groups(h->st, v->p->id, true, add_group, v)) < 0) {
			for (size_t i = 0; i < v->ngroups; i++)
				free(v->groups[i]);
			free(v->groups);
			v->groups = NULL;
			v->ngroups = 0;
			return store_error(r) == -EIO ? (h->fatal = -EIO) : r;
		}
		v->groups_loaded = true;
	}
	*names = (const char *const *)v->groups;
	*n = v->ngroups;
	return 0;
}

/* Fill plugin_scan with the ids q selects, by username: the list is made
 * before the plugin sees the first, so that what it does to the people does
 * not change which it is shown. */
static int
scan_select(struct plugins *h, const struct rosterd_query *q)
{
	/* SQLite: julianday() */
	static const char sql[] =
		"INSERT INTO plugin_scan (person_id) SELECT p.id FROM people p "
		"WHERE (?1 = 0 OR (?1 & CASE p.status WHEN 'invited' THEN 1 WHEN 'active' THEN 2 "
		"  WHEN 'disabled' THEN 4 ELSE 8 END) <> 0) "
		"AND (?2 <= 0 OR julianday(?7) - julianday(p.status_changed_at) >= ?2) "
		"AND (?3 = 0 OR p.missing_since IS NOT NULL) "
		"AND (?4 IS NULL OR EXISTS (SELECT 1 FROM person_fields f WHERE f.person_id = p.id "
		"  AND f.name = ?4)) "
		"AND (?5 IS NULL OR EXISTS (SELECT 1 FROM assignments a JOIN courses c "
		"  ON c.id = a.course_id WHERE a.person_id = p.id AND c.code = ?5 "
		"  AND a.status = 'completed' "
		"  AND julianday(?7) - julianday(coalesce(a.completed_at, a.assigned_at)) >= ?6)) "
		"ORDER BY p.username";
	struct rosterd_query z = { 0 };
	struct stmt *s;
	int r;

	/* A query from an older plugin is shorter: the rest is "any". */
	memcpy(&z, q, q->size < sizeof(z) ? q->size : sizeof(z));
	if (store_exec(h->st, "DELETE FROM plugin_scan") < 0 || store_prepare(h->st, sql, &s) < 0)
		return -EIO;
	stmt_bind_int(s, 1, (int)(z.statuses & 15u));
	stmt_bind_int(s, 2, z.min_status_days);
	stmt_bind_int(s, 3, z.missing ? 1 : 0);
	stmt_bind_text(s, 4, z.has_field);
	stmt_bind_text(s, 5, z.completed_course);
	stmt_bind_int(s, 6, z.completed_days);
	stmt_bind_text(s, 7, h->now);
	r = stmt_run(s) < 0 ? -EIO : 0;
	stmt_done(s);
	return r;
}

static int
host_people_foreach(struct rosterd_ctx *ctx, const struct rosterd_query *q,
		    rosterd_person_fn fn, void *arg)
{
	struct plugin *p = plugin_of(ctx);
	struct plugins *h = p->h;
	struct stmt *s;
	int r, fr = 0;

	if (!h->in_run || h->calling != p)
		return -ENOTCONN;
	if (h->in_foreach)
		return -EBUSY;
	if (q == NULL || fn == NULL || q->size < sizeof(size_t))
		return -EINVAL;
	if (scan_select(h, q) < 0 ||
	    store_prepare(h->st, "SELECT person_id FROM plugin_scan ORDER BY n", &s) < 0)
		return h->fatal = -EIO;
	h->in_foreach = true;
	while ((r = stmt_step(s)) == 1) {
		struct view *v = NULL;

		fr = view_load(h, stmt_int(s, 0), &v);
		if (fr == -ENOENT) {
			fr = 0;
			continue;
		}
		if (fr < 0)
			break;
		h->live[1] = v;
		fr = fn(ctx, &v->pub, arg);
		h->live[1] = NULL;
		view_free(v);
		if (fr != 0)
			break;
	}
	h->in_foreach = false;
	stmt_done(s);
	if (fr == -EIO)
		h->fatal = fr;
	if (fr != 0)
		return fr;
	return r == 0 ? 0 : (h->fatal = -EIO);
}

/* ---- host functions: state and courses ------------------------------------------- */

/* The store's key for the plugin's key: 0, or -ENOTCONN, -EINVAL. */
static int
state_key(struct plugin *p, const char *key, char *out, size_t len)
{
	if (!p->h->in_run || p->h->calling != p)
		return -ENOTCONN;
	if (key == NULL || key[0] == '\0' || strlen(key) > 200)
		return -EINVAL;
	snprintf(out, len, "plugin:%s:%s", p->name, key);
	return 0;
}

static int
host_state_get(struct rosterd_ctx *ctx, const char *key, char *buf, size_t len)
{
	struct plugin *p = plugin_of(ctx);
	char k[300];
	int r = state_key(p, key, k, sizeof(k));

	if (r < 0)
		return r;
	r = store_state_get(p->h->st, k, buf, len);
	return r == -EIO ? (p->h->fatal = -EIO) : r;
}

static int
host_state_set(struct rosterd_ctx *ctx, const char *key, const char *value)
{
	struct plugin *p = plugin_of(ctx);
	char k[300];
	int r = state_key(p, key, k, sizeof(k));

	if (r < 0)
		return r;
	r = store_state_put(p->h->st, k, value);
	return r == -EIO ? (p->h->fatal = -EIO) : r;
}

static int
host_define_course(struct rosterd_ctx *ctx, const char *code, const char *title,
		   long long licences)
{
	struct plugin *p = plugin_of(ctx);
	struct plugins *h = p->h;
	struct course_def *grown, *d;

	if (!h->in_init || h->calling != p)
		return -ENOTCONN;
	if (code == NULL || !act_code_ok(code))
		return -EINVAL;
	for (size_t i = 0; i < h->ncourses; i++)
		if (strcmp(h->courses[i].code, code) == 0)
			return h->courses[i].owner == p ? -EEXIST : -EBUSY;
	grown = realloc(h->courses, (h->ncourses + 1) * sizeof(*grown));
	if (grown == NULL)
		return -ENOMEM;
	h->courses = grown;
	d = &h->courses[h->ncourses];
	d->code = strdup(code);
	d->title = title ? strdup(title) : NULL;
	d->limit = licences < 0 ? -1 : licences;
	d->owner = p;
	if (d->code == NULL || (title && d->title == NULL)) {
		free(d->code);
		free(d->title);
		return -ENOMEM;
	}
	h->ncourses++;
	return 0;
}

static const struct rosterd_host host_table = {
	.abi_major = ROSTERD_PLUGIN_ABI_MAJOR,
	.abi_minor = ROSTERD_PLUGIN_ABI_MINOR,
	.size = sizeof(struct rosterd_host),
	.log = host_log,
	.assign_course = host_assign,
	.unassign_course = host_unassign,
	.disable = host_disable,
	.enable = host_enable,
	.archive = host_archive,
	.set_field = host_set_field,
	.notify = host_notify,
	.setting_get = setting_get,
	.setting_at = setting_at,
	.setting_count = setting_count,
	.setting_name = setting_name,
	.setting_type = setting_type,
	.setting_string = setting_string,
	.setting_int = setting_int,
	.setting_float = setting_float,
	.setting_bool = setting_bool,
	.setting_error = host_setting_error,
	.setting_check = host_setting_check,
	.person_field = host_person_field,
	.person_groups = host_person_groups,
	.people_foreach = host_people_foreach,
	.state_get = host_state_get,
	.state_set = host_state_set,
	.define_course = host_define_course,
	.assign_course_until = host_assign_until,
};

/* ---- loading ---------------------------------------------------------------------- */

/* Whether st, the stat of the plugin file or of one of the directories
 * above it (what: "" for the file, else ": its directory \"DIR\""), is
 * safe to trust: owned by root or by rosterd's own user, writable by no one
 * else. One exception, for ancestors only (above the file's own directory):
 * a directory owned by root with the sticky bit, as /tmp, may be writable
 * by all, since no one but root and an entry's owner can rename or remove
 * the entries in it, and the entry on the way is itself checked (owned by
 * root or rosterd's user). The file's own directory never may: a plugin
 * in /tmp is refused. */
static int
trusted_stat(struct plugins *h, const char *where, const char *path, const char *what,
	     const struct stat *st, bool ancestor)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		errf(h, "%s: \"%s\"%s is owned by uid %lu, not by root or by rosterd's user "
		     "(uid %lu): refused", where, path, what, (unsigned long)st->st_uid,
		     (unsigned long)geteuid());
		return -EPERM;
	}
	if (ancestor && st->st_uid == 0 && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
		return 0;
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		errf(h, "%s: \"%s\"%s is writable by %s (mode %04o): refused; chmod go-w it",
		     where, path, what, (st->st_mode & S_IWOTH) ? "others" : "its group",
		     (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Whether cp->path is a file rosterd may load, as sshd and sudo judge
 * theirs: a regular file, it and every directory above it (links followed)
 * owned by root or rosterd's user and writable by no one else (but for a
 * root-owned sticky ancestor: trusted_stat). 0 with
 * *real the path with its links resolved (to load: nothing unchecked is
 * on the way), or a negative errno with the reason in h's errors. */
static int
trusted_file(struct plugins *h, const struct conf_plugin *cp, const char *where, char **real)
{
	char *path, *slash, what[PATH_MAX + 32];
	bool ancestor = false;
	struct stat sb;
	int r;

	if ((path = realpath(cp->path, NULL)) == NULL || stat(path, &sb) < 0) {
		r = -errno;
		errf(h, "%s: cannot load \"%s\": %s", where, cp->path, strerror(errno));
		free(path);
		return r;
	}
	if (!S_ISREG(sb.st_mode)) {
		errf(h, "%s: \"%s\" is not a regular file: refused", where, cp->path);
		free(path);
		return -EINVAL;
	}
	if ((r = trusted_stat(h, where, cp->path, "", &sb, false)) < 0) {
		free(path);
		return r;
	}
	/* each directory above, from the file's own up to the root */
	for (slash = strrchr(path, '/'); r == 0 && slash != NULL; slash = strrchr(path, '/'),
	     ancestor = true) {
		*slash = '\0';
		snprintf(what, sizeof(what), ": its directory \"%s\"", path[0] ? path : "/");
		if (stat(path[0] ? path : "/", &sb) < 0) {
			r = -errno;
			errf(h, "%s: \"%s\"%s cannot be read: %s", where, cp->path, what,
			     strerror(errno));
		} else {
			r = trusted_stat(h, where, cp->path, what, &sb, ancestor);
		}
		if (path[0] == '\0')
			break;
	}
	free(path);
	if (r == 0 && (*real = realpath(cp->path, NULL)) == NULL)
		r = -ENOMEM;
	return r;
}

static int
load_one(struct plugins *h, struct plugin *p, const struct conf_plugin *cp)
{
	char where[400], *real = NULL;
	const struct rosterd_plugin *d;
	int r;

	snprintf(where, sizeof(where), "%s:%u: plugins[%d]", h->cf->path, cp->line, cp->index);
	p->h = h;
	p->cp = cp;
	p->ctx.size = sizeof(p->ctx);
	p->ctx.host = &host_table;
	p->name = strdup(cp->name);
	p->path = strdup(cp->path);
	if (p->name == NULL || p->path == NULL || asprintf(&p->actor, "plugin:%s", cp->name) < 0) {
		p->actor = NULL;
		return -ENOMEM;
	}
	p->ctx.name = p->name;
	if ((r = trusted_file(h, cp, where, &real)) < 0)
		return r;
	p->dl = dlopen(real, RTLD_NOW | RTLD_LOCAL | DL_KEEP);
	free(real);
	if (p->dl == NULL) {
		errf(h, "%s: cannot load \"%s\": %s", where, cp->path, dlerror());
		return -EINVAL;
	}
	d = dlsym(p->dl, ROSTERD_PLUGIN_DESCRIPTOR);
	if (d == NULL) {
		errf(h, "%s: \"%s\" exports no %s: not a rosterd plugin", where, cp->path,
		     ROSTERD_PLUGIN_DESCRIPTOR);
		return -EINVAL;
	}
	if (d->abi_major != ROSTERD_PLUGIN_ABI_MAJOR) {
		errf(h, "%s: \"%s\" was built for plugin ABI %u.%u; this rosterd has ABI %d.%d: "
		     "rebuild it against this rosterd's <rosterd/plugin.h>", where, cp->path,
		     d->abi_major, d->abi_minor, ROSTERD_PLUGIN_ABI_MAJOR, ROSTERD_PLUGIN_ABI_MINOR);
		return -EPROTO;
	}
	if (d->size < DESC_MIN_SIZE) {
		errf(h, "%s: \"%s\": its descriptor is %zu bytes, less than the %zu of ABI %d.0: "
		     "a broken build", where, cp->path, d->size, (size_t)DESC_MIN_SIZE,
		     ROSTERD_PLUGIN_ABI_MAJOR);
		return -EPROTO;
	}
	if (d->init == NULL) {
		errf(h, "%s: \"%s\" has no init function", where, cp->path);
		return -EINVAL;
	}
	p->desc = d;
	h->in_init = true;
	h->calling = p;
	r = d->init(&p->ctx, (const struct rosterd_setting *)cp->setting, &p->state);
	h->in_init = false;
	h->calling = NULL;
	if (r < 0) {
		if (!p->reported)
			errf(h, "%s: plugin %s refused its settings: %s", where, cp->name,
			     strerror(-r));
		return r;
	}
	p->inited = true;
	log_debug("plugin %s %s (%s) loaded from %s", cp->name, d->version ? d->version : "?",
		  d->name ? d->name : "?", cp->path);
	return 0;
}

int
plugins_load(const struct conf *cf, struct plugins **out, char *err, size_t errlen)
{
	struct plugins *h = calloc(1, sizeof(*h));
	int r = 0;

	err[0] = '\0';
	if (h == NULL)
		return -ENOMEM;
	h->cf = cf;
	if (cf->nplugins > 0 && (h->p = calloc(cf->nplugins, sizeof(*h->p))) == NULL) {
		free(h);
		return -ENOMEM;
	}
	/* Every plugin is tried, so that one run of rosterd -n shows every problem. */
	for (size_t i = 0; i < cf->nplugins; i++) {
		int lr = load_one(h, &h->p[i], &cf->plugins[i]);
		h->n++;
		if (lr < 0 && r == 0)
			r = lr == -ENOMEM ? lr : -EINVAL;
	}
	if (r < 0) {
		snprintf(err, errlen, "%s", r == -ENOMEM && h->err[0] == '\0' ? "out of memory" :
			 h->err);
		plugins_free(h);
		return r;
	}
	*out = h;
	return 0;
}

size_t
plugins_count(const struct plugins *h)
{
	return h ? h->n : 0;
}

bool
plugins_take_disable(const struct plugins *h)
{
	for (size_t i = 0; h && i < h->n; i++)
		if (h->p[i].desc != NULL && (h->p[i].desc->flags & ROSTERD_PLUGIN_DISABLES))
			return true;
	return false;
}

long long
plugins_audit_mark(const struct plugins *h)
{
	return h->audit_mark;
}

const char *
plugins_error(const struct plugins *h)
{
	return h->err;
}

/* ---- runs ------------------------------------------------------------------------- */

int
plugins_begin(struct plugins *h, const struct plugin_run *run)
{
	int r;

	h->err[0] = '\0';
	if (h->in_run)
		plugins_end(h);
	if (!store_in_txn(run->st)) {
		errf(h, "plugins: a run needs the store's write transaction");
		return -EINVAL;
	}
	h->st = run->st;
	snprintf(h->now, sizeof(h->now), "%s", run->now);
	h->run_id = run->run_id;
	h->complete = run->complete;
	h->batch = run->batch;
	h->dry_run = run->dry_run;
	h->last_kind = 0;
	h->fatal = 0;
	if ((r = act_new(run->st, run->now, run->run_id, &h->act)) < 0 ||
	    (r = store_exec(run->st, schema_plugin_scan)) < 0 ||
	    (r = store_query_int(run->st, "SELECT coalesce(max(id), 0) FROM audit_log",
				 &h->audit_mark)) < 0) {
		errf(h, "plugins: store: %s", store_errmsg(run->st));
		return r == -EINVAL || r == -ENOMEM ? r : -EIO;
	}
	h->in_run = true;
	/* The courses the plugins' settings define, as they say now. */
	for (size_t i = 0; i < h->ncourses; i++) {
		struct course_def *d = &h->courses[i];
		act_set_actor(h->act, d->owner->actor);
		r = act_course_define(h->act, d->code, d->title, d->limit, true);
		if (r < 0) {
			errf(h, "plugin %s: course %s: %s", d->owner->name, d->code,
			     act_message(h->act));
			return r;
		}
	}
	return 0;
}

static const char *const kind_names[] = {
	[ROSTERD_EV_CREATED] = "created",
	[ROSTERD_EV_UPDATED] = "updated",
	[ROSTERD_EV_DIR_DISABLED] = "directory-disabled",
	[ROSTERD_EV_MISSING] = "missing",
	[ROSTERD_EV_REAPPEARED] = "reappeared",
	[ROSTERD_EV_MANAGER_CHANGED] = "manager-changed",
	[ROSTERD_EV_GROUP_JOINED] = "group-joined",
	[ROSTERD_EV_GROUP_LEFT] = "group-left",
	[ROSTERD_EV_RUN_END] = "run-end",
};

/* Call one plugin's callback; on failure record why. */
static int
dispatch(struct plugins *h, struct plugin *p, const struct rosterd_event *ev)
{
	int (*fn)(struct rosterd_ctx *, void *, const struct rosterd_event *) =
		ev->kind == ROSTERD_EV_RUN_END ? p->desc->run_end : p->desc->on_event;
	int r;

	if (fn == NULL)
		return 0;
	h->calling = p;
	r = fn(&p->ctx, p->state, ev);
	h->calling = NULL;
	if (r >= 0 && h->fatal < 0)
		r = h->fatal;
	if (r < 0) {
		if (ev->person != NULL)
			errf(h, "plugin %s failed on the %s event of \"%s\": %s%s%s", p->name,
			     kind_names[ev->kind], ev->person->username, strerror(-r),
			     h->fatal < 0 ? ": store: " : "", h->fatal < 0 ? store_errmsg(h->st) : "");
		else
			errf(h, "plugin %s failed at the end of the run: %s%s%s", p->name,
			     strerror(-r), h->fatal < 0 ? ": store: " : "",
			     h->fatal < 0 ? store_errmsg(h->st) : "");
	}
	return r < 0 ? r : 0;
}

/* Split "email title fields" into a NULL-ended list in buf. */
static size_t
split_changed(const char *changed, char *copy, size_t len, const char **list, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	snprintf(copy, len, "%s", changed ? changed : "");
	for (char *w = strtok_r(copy, " ", &save); w && n + 1 < max; w = strtok_r(NULL, " ", &save))
		list[n++] = w;
	list[n] = NULL;
	return n;
}

/* Groups are kept by id up to this one (a higher id is read each time). */
#define GROUP_CACHE_MAX 1000000

/* Group id as this run read it, read once: in *out, owned by h. -ERANGE
 * when the id is past what the cache keeps. */
static int
group_get(struct plugins *h, long long id, struct view_group **out)
{
	struct view_group **grown;
	size_t n;
	int r;

	if (id <= 0 || id > GROUP_CACHE_MAX)
		return -ERANGE;
	if ((size_t)id >= h->ngroups) {
		n = (size_t)id + 64;
		if ((grown = realloc(h->groups, n * sizeof(*grown))) == NULL)
			return -ENOMEM;
		memset(grown + h->ngroups, 0, (n - h->ngroups) * sizeof(*grown));
		h->groups = grown;
		h->ngroups = n;
	}
	if (h->groups[id] == NULL && (r = view_group(h->st, id, 0, &h->groups[id])) < 0)
		return store_error(r);
	*out = h->groups[id];
	return 0;
}

/* The group of an event of person, with the group they came through (via;
 * 0: directly, or a leave), into g: valid until the run ends, or until *vg
 * (read for the call when the cache cannot keep it) is freed by the caller. */
static int
group_load(struct plugins *h, long long group, long long person, long long via,
	   struct rosterd_group *g, struct view_group **vg)
{
	struct view_group *v, *w = NULL;
	int r = group_get(h, group, &v);

	if (r == 0 && via != 0)
		r = group_get(h, via, &w);
	*vg = NULL;
	if (r == -ERANGE || r == -ENOMEM) {
		if ((r = view_group(h->st, group, person, vg)) < 0)
			return store_error(r);
		v = *vg;
	} else if (r < 0) {
		return r;
	}
	*g = (struct rosterd_group){ .size = sizeof(*g), .name = v->name, .dn = v->dn,
				     .description = v->description,
				     .via = *vg != NULL ? v->via : w != NULL ? w->name : NULL };
	return 0;
}

/* The username of person id, as a string the caller frees, in *out; NULL
 * for id 0 or a person the store does not have. */
static int
username_of(struct plugins *h, long long id, char **out)
{
	char *name = NULL;
	int r = id == 0 ? 0 : view_username(h->st, id, &name);

	if (r < 0 && r != -ENOENT)
		return store_error(r);
	*out = name;
	return 0;
}

int
plugins_event(struct plugins *h, const struct plugin_event *pe)
{
	struct rosterd_event ev = { .size = sizeof(ev) };
	struct rosterd_group g;
	struct view_group *vg = NULL;
	char *old_manager = NULL, copy[1024];
	const char *changed[64];
	struct view *v = NULL;
	int r = 0;

	if (!h->in_run) {
		errf(h, "plugins: an event outside a run");
		return -EINVAL;
	}
	if (pe->kind < ROSTERD_EV_CREATED || pe->kind > ROSTERD_EV_GROUP_LEFT ||
	    pe->kind < h->last_kind) {
		errf(h, "plugins: event kind %d after kind %d: events go in the order of "
		     "enum rosterd_event_kind", pe->kind, h->last_kind);
		return -EINVAL;
	}
	h->last_kind = pe->kind;
	/* The person of the last event again, unless an action came since. */
	if (h->event_view != NULL && h->event_view->p->id == pe->person_id && !h->acted) {
		v = h->event_view;
	} else {
		view_free(h->event_view);
		h->event_view = NULL;
		if ((r = view_load(h, pe->person_id, &v)) < 0) {
			errf(h, "plugins: %s event of person %lld: %s", kind_names[pe->kind],
			     pe->person_id, r == -EIO ? store_errmsg(h->st) : strerror(-r));
			return r;
		}
		h->event_view = v;
		h->acted = false;
	}
	ev.kind = pe->kind;
	ev.now = h->now;
	ev.run_id = h->run_id;
	ev.dry_run = h->dry_run;
	ev.complete = h->complete;
	ev.person = &v->pub;
	ev.flags = pe->flags;
	if (pe->kind == ROSTERD_EV_UPDATED) {
		split_changed(pe->changed, copy, sizeof(copy), changed, 64);
		ev.changed = changed;
	}
	if (pe->kind == ROSTERD_EV_GROUP_JOINED || pe->kind == ROSTERD_EV_GROUP_LEFT) {
		if ((r = group_load(h, pe->group_id, pe->person_id, pe->via_group_id, &g,
				    &vg)) < 0) {
			errf(h, "plugins: %s event: group %lld: %s", kind_names[pe->kind],
			     pe->group_id, r == -EIO ? store_errmsg(h->st) : strerror(-r));
			goto out;
		}
		ev.group = &g;
	}
	if (pe->kind == ROSTERD_EV_MANAGER_CHANGED &&
	    (r = username_of(h, pe->old_manager_id, &old_manager)) < 0) {
		errf(h, "plugins: manager of person %lld: %s", pe->person_id, store_errmsg(h->st));
		goto out;
	}
	ev.old_manager = old_manager;
	h->live[0] = v;
	for (size_t i = 0; i < h->n && r == 0; i++)
		r = dispatch(h, &h->p[i], &ev);
	h->live[0] = NULL;
out:
	view_group_free(vg);
	free(old_manager);
	return r;
}

int
plugins_run_end(struct plugins *h)
{
	struct rosterd_event ev = { .size = sizeof(ev), .kind = ROSTERD_EV_RUN_END };
	int r = 0;

	if (!h->in_run) {
		errf(h, "plugins: run end outside a run");
		return -EINVAL;
	}
	ev.now = h->now;
	ev.run_id = h->run_id;
	ev.dry_run = h->dry_run;
	ev.complete = h->complete;
	h->last_kind = ROSTERD_EV_RUN_END;
	for (size_t i = 0; i < h->n && r == 0; i++)
		r = dispatch(h, &h->p[i], &ev);
	return r < 0 ? r : plugins_settle(h);
}

int
plugins_settle(struct plugins *h)
{
	int r;

	if (!h->in_run) {
		errf(h, "plugins: run end outside a run");
		return -EINVAL;
	}
	/* People the platform or an operator made active since, and licences
	 * that came back: granted at the end of every run. */
	act_set_actor(h->act, "sync");
	if ((r = act_settle(h->act)) < 0) {
		errf(h, "plugins: granting licences: %s", store_errmsg(h->st));
		return r;
	}
	return 0;
}

void
plugins_counts(const struct plugins *h, struct plugin_counts *c)
{
	struct act_counts a = { 0 };

	if (h->act != NULL)
		act_counts(h->act, &a);
	*c = (struct plugin_counts){
		.disabled = a.disabled, .archived = a.archived, .enabled = a.enabled,
		.assigned = a.assigned, .unassigned = a.unassigned, .waiting = a.waiting,
		.granted = a.granted, .fields = a.fields, .notified = a.notified,
	};
}

int
plugins_actions_foreach(struct plugins *h, plugin_action_fn fn, void *arg)
{
	struct stmt *s;
	int r, fr = 0;

	if (!h->in_run)
		return -EINVAL;
	if (store_prepare(h->st, "SELECT actor, action, coalesce(person_id, 0), subject, "
			  "detail FROM audit_log WHERE id > ?1 ORDER BY id", &s) < 0)
		return -EIO;
	stmt_bind_int(s, 1, h->audit_mark);
	while (fr == 0 && (r = stmt_step(s)) == 1) {
		struct plugin_action a = {
			.actor = stmt_text(s, 0),
			.action = stmt_text(s, 1),
			.person_id = stmt_int(s, 2),
			.subject = stmt_text(s, 3),
			.detail = stmt_text(s, 4),
		};
		fr = fn(&a, arg);
	}
	stmt_done(s);
	return fr != 0 ? fr : r == 0 ? 0 : -EIO;
}

void
plugins_end(struct plugins *h)
{
	if (h == NULL)
		return;
	act_free(h->act);
	h->act = NULL;
	h->st = NULL;
	h->in_run = false;
	view_free(h->event_view);
	h->event_view = NULL;
	for (size_t i = 0; i < h->ngroups; i++)
		view_group_free(h->groups[i]);
	free(h->groups);
	h->groups = NULL;
	h->ngroups = 0;
}

void
plugins_free(struct plugins *h)
{
	if (h == NULL)
		return;
	plugins_end(h);
	for (size_t i = 0; i < h->n; i++) {
		struct plugin *p = &h->p[i];
		if (p->inited && p->desc->fini != NULL)
			p->desc->fini(p->state);
		if (p->dl != NULL)
			dlclose(p->dl);
		free(p->name);
		free(p->path);
		free(p->actor);
	}
	for (size_t i = 0; i < h->ncourses; i++) {
		free(h->courses[i].code);
		free(h->courses[i].title);
	}
	free(h->courses);
	free(h->p);
	free(h);
}
