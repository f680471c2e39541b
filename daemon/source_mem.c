/*
 * source_mem.c: a source (source.h) that hands out records held in memory,
 * for the unit tests: people and groups from arrays, a read that ends short
 * after so many entries, a search that fails, a begin that fails, a wait
 * that asks the interrupt, a state to keep. It needs no server and no
 * attribute map: its entries are mapped already.
 */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct source_mem_src {
	struct source s;
	const struct source_mem *m;
	enum source_read what;   /* the read in progress */
	size_t pos;              /* its next entry */
	int ended;               /* 0 reading; 1 ended whole; -1 ended short */
	bool short_read;         /* a read of this run ended short */
	char *kept;              /* what begin() was given */
};

/* ---- the operations, as source.h describes them ---------------------------- */

static int
mem_begin(struct source *s, const char *kept)
{
	struct source_mem_src *ms = (struct source_mem_src *)s;

	free(ms->kept);
	ms->kept = NULL;
	ms->short_read = false;
	if (ms->m->begin_error < 0) {
		snprintf(s->err, sizeof(s->err), "memory source: begin fails, as told (%s)",
			 strerror(-ms->m->begin_error));
		return ms->m->begin_error;
	}
	if (kept != NULL && (ms->kept = strdup(kept)) == NULL)
		return -ENOMEM;
	s->uri = "memory:";
	return 0;
}

static int
mem_read(struct source *s, enum source_read what)
{
	struct source_mem_src *ms = (struct source_mem_src *)s;

	ms->what = what;
	ms->pos = 0;
	ms->ended = 0;
	return 0;
}

/* The "server" is silent for a second at most: asking the interrupt every
 * 10 ms, as a source waiting for one would. Whether it said stop. */
static bool
wait_server(struct source *s)
{
	for (int i = 0; i < 100 && s->interrupt != NULL; i++) {
		if (s->interrupt(s->interrupt_arg) != 0)
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return false;
}

static int
mem_next(struct source *s, struct source_entry *e)
{
	struct source_mem_src *ms = (struct source_mem_src *)s;
	const struct source_mem *m = ms->m;
	bool people = ms->what == SOURCE_PEOPLE;
	long long limit = people ? m->people_limit : m->groups_limit;
	size_t n = people ? m->npeople : m->ngroups;

	if (ms->ended != 0)
		return 0;
	if (people && m->wait_at >= 0 && ms->pos == (size_t)m->wait_at && wait_server(s))
		return -ECANCELED;
	if (limit >= 0 && ms->pos >= (size_t)limit) {
		snprintf(s->err, sizeof(s->err), "memory source: the %s read ends after %lld "
			 "entries, as told", people ? "people" : "groups", limit);
		ms->ended = -1;
		ms->short_read = true;
		return 0;
	}
	if (ms->pos >= n) {
		ms->ended = 1;
		return 0;
	}
	*e = (people ? m->people : m->groups)[ms->pos++];
	return 1;
}

static bool
mem_complete(const struct source *s)
{
	return ((const struct source_mem_src *)s)->ended == 1;
}

static bool
mem_whole(const struct source *s)
{
	const struct source_mem_src *ms = (const struct source_mem_src *)s;

	return ms->what == SOURCE_PEOPLE ? !ms->m->people_changes_only :
	       !ms->m->groups_changes_only;
}

static bool
mem_changes_only(const struct source *s)
{
	const struct source_mem_src *ms = (const struct source_mem_src *)s;

	return ms->what == SOURCE_PEOPLE && ms->m->people_changes_only;
}

static const char *
mem_state(const struct source *s)
{
	const struct source_mem_src *ms = (const struct source_mem_src *)s;

	return ms->short_read ? NULL : ms->m->state;
}

static void
mem_end(struct source *s)
{
	s->uri = NULL;
}

static void
mem_free(struct source *s)
{
	if (s == NULL)
		return;
	free(((struct source_mem_src *)s)->kept);
	free(s);
}

static const struct source_ops mem_ops = {
	.name = "memory",
	.begin = mem_begin,
	.read = mem_read,
	.next = mem_next,
	.complete = mem_complete,
	.whole = mem_whole,
	.changes_only = mem_changes_only,
	.state = mem_state,
	.end = mem_end,
	.free = mem_free,
};

int
source_mem_new(const struct source_mem *m, struct source **out)
{
	struct source_mem_src *ms = calloc(1, sizeof(*ms));

	if (ms == NULL)
		return -ENOMEM;
	ms->s.ops = &mem_ops;
	ms->m = m;
	*out = &ms->s;
	return 0;
}

const char *
source_mem_kept(const struct source *s)
{
	return ((const struct source_mem_src *)s)->kept;
}
