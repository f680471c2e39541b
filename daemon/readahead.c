/*
 * readahead.c: a source read ahead by a thread of its own (readahead.h).
 * The thread fills batches (entries copied into an arena each) and queues
 * them; the caller takes them in order and gives each back once handed
 * out. A mutex guards the queue; the stop flag is atomic, as the source
 * asks it from the thread. Nothing here logs.
 */
#include "readahead.h"

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_ENTRIES 256
#define BATCH_ARENA (128 * 1024)
/* Batches: one the thread fills, QUEUED waiting, one handed out. */
#define QUEUED 2
#define NBATCH (QUEUED + 2)
/* How often ahead_next() asks the source's interrupt while it waits. */
#define WAIT_NS (250 * 1000 * 1000L)

struct batch {
	struct source_entry e[BATCH_ENTRIES];
	size_t n;
	char *arena;
	size_t used, size;
	struct batch *next;
};

struct ahead {
	struct source *src;
	int (*outer)(void *arg);        /* the source's interrupt before */
	void *outer_arg;
	pthread_t thread;
	bool started;                   /* the thread runs (until ahead_stop) */
	pthread_mutex_t mu;
	pthread_cond_t ready;           /* a batch queued, or the read over */
	pthread_cond_t room;            /* a batch free */
	struct batch *queue, *tail;     /* filled, in order */
	struct batch *free;
	struct batch *filling;          /* the thread's (it alone touches it) */
	struct batch *cur;              /* the caller's, handed out from pos */
	size_t pos;
	bool done;                      /* the thread's read is over: result */
	int result;
	bool cancelled;                 /* the caller was told to stop */
	atomic_int stop;
	struct batch all[NBATCH];
};

/* ---- copies ------------------------------------------------------------- */

static size_t
text_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* What copying e takes in an arena, aligned pieces included. */
static size_t
entry_size(const struct source_entry *e)
{
	const struct person_rec *p = &e->person;
	const struct group_rec *g = &e->group;
	size_t n = text_size(e->dn) + text_size(e->reject) + text_size(p->dir_id) +
		   text_size(p->dn) + text_size(p->dn_norm) + text_size(g->dir_id) +
		   text_size(g->dn) + text_size(g->dn_norm) + text_size(g->name) +
		   text_size(g->description);

	for (int f = 0; f < NFIELDS; f++)
		n += text_size(p->field[f]);
	for (size_t k = 0; k < p->ncustom; k++)
		n += text_size(p->custom_name[k]) + text_size(p->custom_value[k]);
	for (size_t k = 0; k < p->nmember_of; k++)
		n += text_size(p->member_of[k]);
	for (size_t k = 0; k < g->nmembers; k++)
		n += text_size(g->members[k]);
	n += (2 * p->ncustom + p->nmember_of + g->nmembers) * sizeof(char *);
	return n + 2 * alignof(max_align_t);
}

static void *
arena_take(struct batch *b, size_t n, size_t align)
{
	size_t at = (b->used + align - 1) / align * align;

	b->used = at + n;
	return b->arena + at;
}

static const char *
arena_text(struct batch *b, const char *s)
{
	size_t n = text_size(s);

	return s ? memcpy(arena_take(b, n, 1), s, n) : NULL;
}

/* A copy of the list v of n texts. */
static const char *const *
arena_list(struct batch *b, const char *const *v, size_t n)
{
	const char **l;

	if (n == 0)
		return NULL;
	l = arena_take(b, n * sizeof(*l), alignof(const char *));
	for (size_t k = 0; k < n; k++)
		l[k] = arena_text(b, v[k]);
	return l;
}

/* Copy e into b: 1, 0 when b has no room left (it holds entries), or
 * -ENOMEM. An entry larger than an arena gets an empty batch's arena grown
 * to its size. */
static int
batch_add(struct batch *b, const struct source_entry *e)
{
	size_t need = entry_size(e);
	struct source_entry *c;
	char *grown;

	if (b->n == BATCH_ENTRIES || (b->used + need > b->size && b->n > 0))
		return 0;
	if (need > b->size) {
		if ((grown = realloc(b->arena, need)) == NULL)
			return -ENOMEM;
		b->arena = grown;
		b->size = need;
	}
	c = &b->e[b->n++];
	*c = *e;
	c->dn = arena_text(b, e->dn);
	c->reject = arena_text(b, e->reject);
	c->person.dir_id = arena_text(b, e->person.dir_id);
	c->person.dn = arena_text(b, e->person.dn);
	c->person.dn_norm = arena_text(b, e->person.dn_norm);
	for (int f = 0; f < NFIELDS; f++)
		c->person.field[f] = arena_text(b, e->person.field[f]);
	c->person.custom_name = arena_list(b, e->person.custom_name, e->person.ncustom);
	c->person.custom_value = arena_list(b, e->person.custom_value, e->person.ncustom);
	c->person.member_of = arena_list(b, e->person.member_of, e->person.nmember_of);
	c->group.dir_id = arena_text(b, e->group.dir_id);
	c->group.dn = arena_text(b, e->group.dn);
	c->group.dn_norm = arena_text(b, e->group.dn_norm);
	c->group.name = arena_text(b, e->group.name);
	c->group.description = arena_text(b, e->group.description);
	c->group.members = arena_list(b, e->group.members, e->group.nmembers);
	return 1;
}

/* ---- the queue (under a->mu) --------------------------------------------- */

static void
batch_reset(struct batch *b)
{
	b->n = 0;
	b->used = 0;
	b->next = NULL;
}

static void
put_free(struct ahead *a, struct batch *b)
{
	batch_reset(b);
	b->next = a->free;
	a->free = b;
	pthread_cond_signal(&a->room);
}

/* A free batch for the thread, waiting for one; NULL once told to stop. */
static struct batch *
take_free(struct ahead *a)
{
	struct batch *b;

	pthread_mutex_lock(&a->mu);
	while (a->free == NULL && !atomic_load(&a->stop))
		pthread_cond_wait(&a->room, &a->mu);
	if ((b = atomic_load(&a->stop) ? NULL : a->free) != NULL) {
		a->free = b->next;
		b->next = NULL;
	}
	pthread_mutex_unlock(&a->mu);
	return b;
}

static void
append(struct ahead *a, struct batch *b)
{
	b->next = NULL;
	if (a->tail != NULL)
		a->tail->next = b;
	else
		a->queue = b;
	a->tail = b;
}

/* Queue b (NULL: nothing more), and end the read with result when done. */
static void
queue(struct ahead *a, struct batch *b, bool done, int result)
{
	pthread_mutex_lock(&a->mu);
	if (b != NULL && b->n > 0)
		append(a, b);
	else if (b != NULL)
		put_free(a, b);
	if (done) {
		a->done = true;
		a->result = result;
	}
	pthread_cond_signal(&a->ready);
	pthread_mutex_unlock(&a->mu);
}

/* ---- the thread --------------------------------------------------------- */

/* The source's interrupt while the thread reads: it asks while it waits
 * for the server, so the entries of the batch being filled are handed over
 * then (when a free batch can take its place), not left waiting too. */
static int
thread_interrupt(void *arg)
{
	struct ahead *a = arg;
	struct batch *b;

	if (a->filling != NULL && a->filling->n > 0) {
		pthread_mutex_lock(&a->mu);
		if ((b = a->free) != NULL) {
			a->free = b->next;
			append(a, a->filling);
			a->filling = b;
			pthread_cond_signal(&a->ready);
		}
		pthread_mutex_unlock(&a->mu);
	}
	return atomic_load(&a->stop);
}

/* Read the source to its end (or a stop, or a failure), a batch at a time. */
static void *
reader(void *arg)
{
	struct ahead *a = arg;
	struct source_entry e;
	int r = (a->filling = take_free(a)) != NULL ? 1 : -ECANCELED;

	while (r == 1 && (r = atomic_load(&a->stop) ? -ECANCELED :
			  a->src->ops->next(a->src, &e)) == 1) {
		if ((r = batch_add(a->filling, &e)) != 0)
			continue;
		queue(a, a->filling, false, 0);
		r = (a->filling = take_free(a)) == NULL ? -ECANCELED : batch_add(a->filling, &e);
	}
	queue(a, a->filling, true, r < 0 ? r : 0);
	a->filling = NULL;
	return NULL;
}

/* ---- the caller --------------------------------------------------------- */

int
ahead_start(struct source *src, struct ahead **out)
{
	struct ahead *a = calloc(1, sizeof(*a));
	int r;

	if (a == NULL)
		return -ENOMEM;
	a->src = src;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->ready, NULL);
	pthread_cond_init(&a->room, NULL);
	for (size_t i = 0; i < NBATCH; i++) {
		if ((a->all[i].arena = malloc(BATCH_ARENA)) == NULL) {
			ahead_stop(a);
			return -ENOMEM;
		}
		a->all[i].size = BATCH_ARENA;
		a->all[i].next = a->free;
		a->free = &a->all[i];
	}
	a->outer = src->interrupt;
	a->outer_arg = src->interrupt_arg;
	src->interrupt = thread_interrupt;
	src->interrupt_arg = a;
	if ((r = pthread_create(&a->thread, NULL, reader, a)) != 0) {
		src->interrupt = a->outer;
		src->interrupt_arg = a->outer_arg;
		ahead_stop(a);
		return -r;
	}
	a->started = true;
	*out = a;
	return 0;
}

/* Wait for a batch or the end, asking the source's own interrupt now and
 * then (under a->mu, which it gives up while it asks). */
static void
wait_ready(struct ahead *a)
{
	struct timespec until;

	while (a->queue == NULL && !a->done && !a->cancelled) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WAIT_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&a->ready, &a->mu, &until) != ETIMEDOUT ||
		    a->outer == NULL)
			continue;
		pthread_mutex_unlock(&a->mu);
		if (a->outer(a->outer_arg) != 0) {
			a->cancelled = true;
			atomic_store(&a->stop, 1);
		}
		pthread_mutex_lock(&a->mu);
	}
}

int
ahead_next(struct ahead *a, struct source_entry *e)
{
	int r = 1;

	if (a->cancelled)
		return -ECANCELED;
	if (a->cur != NULL && a->pos < a->cur->n) {
		*e = a->cur->e[a->pos++];
		return 1;
	}
	pthread_mutex_lock(&a->mu);
	if (a->cur != NULL)
		put_free(a, a->cur);
	a->cur = NULL;
	wait_ready(a);
	if (a->cancelled) {
		r = -ECANCELED;
	} else if (a->queue != NULL) {
		a->cur = a->queue;
		if ((a->queue = a->cur->next) == NULL)
			a->tail = NULL;
		a->pos = 0;
		*e = a->cur->e[a->pos++];
	} else {
		r = a->result;
	}
	pthread_mutex_unlock(&a->mu);
	return r;
}

void
ahead_stop(struct ahead *a)
{
	if (a == NULL)
		return;
	if (a->started) {
		atomic_store(&a->stop, 1);
		pthread_mutex_lock(&a->mu);
		pthread_cond_broadcast(&a->room);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
		a->src->interrupt = a->outer;
		a->src->interrupt_arg = a->outer_arg;
	}
	for (size_t i = 0; i < NBATCH; i++)
		free(a->all[i].arena);
	pthread_cond_destroy(&a->room);
	pthread_cond_destroy(&a->ready);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
