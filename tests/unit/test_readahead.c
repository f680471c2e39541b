/*
 * test_readahead.c: a source read ahead by a thread (readahead.h), with the
 * memory source and a source of its own that waits for its interrupt.
 * Proves: every entry comes out once, in order, with its content (fields,
 * custom fields, memberOf values), over many batches, then the end (0); an
 * entry larger than a batch's arena comes out whole; a read that ends short
 * ends (0) and the source says so once the thread is stopped; stopping
 * before the end returns at once and gives the source back with its own
 * interrupt; a source waiting for its server is stopped through the
 * caller's interrupt (-ECANCELED) within a second. Run under ThreadSanitizer
 * by make check-tsan.
 */
#include "unit.h"
#include "readahead.h"

#include <pthread.h>
#include <time.h>

#define N 3000
#define BIG 40000

struct fx {
	struct source_entry e[N];
	char *text[N][4];
	const char *custom_name[2];
	const char *custom_value[N][2];
	const char **member_of;    /* BIG values, for entry 7 */
	char **mo_text;
	struct source_mem m;
	struct source *src;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->custom_name[0] = "cost_centre";
	fx->custom_name[1] = "end_date";
	fx->member_of = calloc(BIG, sizeof(*fx->member_of));
	fx->mo_text = calloc(BIG, sizeof(*fx->mo_text));
	assert_true(fx->member_of && fx->mo_text);
	for (size_t k = 0; k < BIG; k++) {
		assert_true(asprintf(&fx->mo_text[k], "cn=g%zu,ou=groups,dc=example,dc=com", k) > 0);
		fx->member_of[k] = fx->mo_text[k];
	}
	for (size_t i = 0; i < N; i++) {
		struct person_rec *p = &fx->e[i].person;

		assert_true(asprintf(&fx->text[i][0], "id-%zu", i) > 0);
		assert_true(asprintf(&fx->text[i][1], "uid=u%zu,ou=people,dc=example,dc=com", i) > 0);
		assert_true(asprintf(&fx->text[i][2], "u%zu", i) > 0);
		assert_true(asprintf(&fx->text[i][3], "D%zu", i % 7) > 0);
		fx->e[i].dn = fx->text[i][1];
		fx->e[i].reject = i % 100 == 99 ? "no username" : NULL;
		p->dir_id = fx->text[i][0];
		p->dn = p->dn_norm = fx->text[i][1];
		p->field[F_USERNAME] = fx->text[i][2];
		p->field[F_DEPARTMENT] = fx->text[i][3];
		p->dir_disabled = i % 5 == 0;
		fx->custom_value[i][0] = fx->text[i][3];
		fx->custom_value[i][1] = i % 2 ? NULL : "2030-01-01";
		p->ncustom = 2;
		p->custom_name = fx->custom_name;
		p->custom_value = fx->custom_value[i];
		if (i == 7) {
			p->nmember_of = BIG;
			p->member_of = fx->member_of;
		}
	}
	fx->m = (struct source_mem){ .people = fx->e, .npeople = N, .people_limit = -1,
				     .groups_limit = -1, .wait_at = -1 };
	assert_int_equal(source_mem_new(&fx->m, &fx->src), 0);
	assert_int_equal(fx->src->ops->begin(fx->src, NULL), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	fx->src->ops->end(fx->src);
	fx->src->ops->free(fx->src);
	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < 4; j++)
			free(fx->text[i][j]);
	for (size_t k = 0; k < BIG; k++)
		free(fx->mo_text[k]);
	free(fx->mo_text);
	free(fx->member_of);
	free(fx);
	return 0;
}

static void
assert_text(const char *want, const char *got)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(want, got);
}

/* Entry i as handed out is entry i as the source has it (and not its
 * memory: a copy). */
static void
assert_entry(const struct fx *fx, size_t i, const struct source_entry *e)
{
	const struct source_entry *w = &fx->e[i];

	assert_int_equal(e->kind, w->kind);
	assert_text(w->dn, e->dn);
	assert_ptr_not_equal(w->dn, e->dn);
	assert_text(w->reject, e->reject);
	assert_text(w->person.dir_id, e->person.dir_id);
	assert_text(w->person.dn_norm, e->person.dn_norm);
	for (int f = 0; f < NFIELDS; f++)
		assert_text(w->person.field[f], e->person.field[f]);
	assert_int_equal(e->person.dir_disabled, w->person.dir_disabled);
	assert_int_equal(e->person.ncustom, w->person.ncustom);
	for (size_t k = 0; k < w->person.ncustom; k++) {
		assert_text(w->person.custom_name[k], e->person.custom_name[k]);
		assert_text(w->person.custom_value[k], e->person.custom_value[k]);
	}
	assert_int_equal(e->person.nmember_of, w->person.nmember_of);
	for (size_t k = 0; k < w->person.nmember_of; k++)
		assert_text(w->person.member_of[k], e->person.member_of[k]);
}

/* Read the whole of fx's people ahead, checking each entry: how many came
 * before the end, which must be 0. */
static size_t
read_all(struct fx *fx)
{
	struct source_entry e;
	struct ahead *a = NULL;
	size_t i = 0;
	int r;

	assert_int_equal(fx->src->ops->read(fx->src, SOURCE_PEOPLE), 0);
	assert_int_equal(ahead_start(fx->src, &a), 0);
	while ((r = ahead_next(a, &e)) == 1) {
		assert_true(i < N);
		assert_entry(fx, i++, &e);
	}
	assert_int_equal(r, 0);
	assert_int_equal(ahead_next(a, &e), 0);
	ahead_stop(a);
	return i;
}

static void
test_every_entry_in_order(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(read_all(fx), N);
	assert_true(fx->src->ops->complete(fx->src));
}

static void
test_short_read(void **state)
{
	struct fx *fx = *state;

	fx->m.people_limit = 1234;
	assert_int_equal(read_all(fx), 1234);
	assert_false(fx->src->ops->complete(fx->src));
	assert_non_null(strstr(fx->src->err, "ends after 1234"));
}

static int
never(void *arg)
{
	(void)arg;
	return 0;
}

static void
test_stop_early(void **state)
{
	struct fx *fx = *state;
	struct source_entry e;
	struct ahead *a = NULL;
	int x;

	fx->src->interrupt = never;
	fx->src->interrupt_arg = &x;
	assert_int_equal(fx->src->ops->read(fx->src, SOURCE_PEOPLE), 0);
	assert_int_equal(ahead_start(fx->src, &a), 0);
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(ahead_next(a, &e), 1);
		assert_entry(fx, i, &e);
	}
	ahead_stop(a);
	assert_ptr_equal(fx->src->interrupt, never);
	assert_ptr_equal(fx->src->interrupt_arg, &x);
	ahead_stop(NULL);
}

/* A source of one entry, then a server that never answers: next() waits,
 * asking its interrupt, until that says stop. */
struct waiting {
	struct source s;
	int sent;
};

static int
wait_next(struct source *s, struct source_entry *e)
{
	struct waiting *w = (struct waiting *)s;

	if (w->sent++ == 0) {
		*e = (struct source_entry){ .dn = "uid=one", .person.dir_id = "one" };
		return 1;
	}
	while (s->interrupt == NULL || s->interrupt(s->interrupt_arg) == 0)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	return -ECANCELED;
}

static const struct source_ops wait_ops = { .name = "waiting", .next = wait_next };

/* The caller's interrupt: stop from the second time it is asked. */
static int
stop_second(void *arg)
{
	int *asked = arg;

	return ++*asked >= 2;
}

static void
test_stop_while_waiting(void **state)
{
	struct waiting w = { .s.ops = &wait_ops };
	struct source_entry e;
	struct ahead *a = NULL;
	struct timespec t0, t1;
	int asked = 0;

	(void)state;
	w.s.interrupt = stop_second;
	w.s.interrupt_arg = &asked;
	assert_int_equal(ahead_start(&w.s, &a), 0);
	assert_int_equal(ahead_next(a, &e), 1);
	assert_string_equal(e.person.dir_id, "one");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ahead_next(a, &e), -ECANCELED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(asked, 2);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_int_equal(ahead_next(a, &e), -ECANCELED);
	ahead_stop(a);
	assert_ptr_equal(w.s.interrupt, stop_second);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_entry_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_early, setup, teardown),
		cmocka_unit_test(test_stop_while_waiting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
