/*
 * keyset.c: strings found again by a 128-bit key, in memory (keyset.h).
 * It logs nothing.
 */
#include "keyset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
keyset_key(const char *s, size_t n, uint64_t *k1, uint64_t *k2)
{
	uint64_t a = 0xcbf29ce484222325ULL, b = 0x9e3779b97f4a7c15ULL ^ n;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		a = (a ^ c) * 0x100000001b3ULL;
		b = (b ^ c) * 0xff51afd7ed558ccdULL;
		b ^= b >> 31;
	}
	*k1 = a;
	*k2 = b;
}

long
keyset_find(const struct keyset *ks, uint64_t k1, uint64_t k2)
{
	if (ks->n == 0)
		return -1;
	for (size_t h = k1 & ks->mask;; h = (h + 1) & ks->mask) {
		uint32_t v = ks->slot[h];

		if (v == 0)
			return -1;
		if (ks->e[v - 1].k1 == k1 && ks->e[v - 1].k2 == k2)
			return (long)(v - 1);
	}
}

long
keyset_find_text(const struct keyset *ks, const char *s, size_t n)
{
	uint64_t k1, k2;

	if (ks->n == 0)
		return -1;
	keyset_key(s, n, &k1, &k2);
	return keyset_find(ks, k1, k2);
}

/* Put entry i in the slots. A key there already: both are shared. */
static void
slot_put(struct keyset *ks, size_t i)
{
	const struct keyset_entry *k = &ks->e[i];
	size_t h = k->k1 & ks->mask;

	for (; ks->slot[h] != 0; h = (h + 1) & ks->mask) {
		const struct keyset_entry *o = &ks->e[ks->slot[h] - 1];

		if (o->k1 == k->k1 && o->k2 == k->k2) {
			ks->flag[ks->slot[h] - 1] |= KEYSET_SHARED;
			ks->flag[i] |= KEYSET_SHARED;
			return;
		}
	}
	ks->slot[h] = (uint32_t)(i + 1);
}

int
keyset_reserve(struct keyset *ks, size_t n)
{
	size_t mask = 15;
	uint32_t *slot;

	if (n >= UINT32_MAX / 2)
		return -ENOMEM;
	if (n > ks->cap) {
		size_t cap = ks->cap ? ks->cap : 16;
		struct keyset_entry *e;
		unsigned char *f;

		while (cap < n)
			cap *= 2;
		if ((e = realloc(ks->e, cap * sizeof(*e))) == NULL)
			return -ENOMEM;
		ks->e = e;
		if ((f = realloc(ks->flag, cap)) == NULL)
			return -ENOMEM;
		memset(f + ks->cap, 0, cap - ks->cap);
		ks->flag = f;
		ks->cap = cap;
	}
	if (ks->slot != NULL && 2 * n <= ks->mask)
		return 0;
	while (mask < 2 * n)
		mask = 2 * mask + 1;
	if ((slot = calloc(mask + 1, sizeof(*slot))) == NULL)
		return -ENOMEM;
	free(ks->slot);
	ks->slot = slot;
	ks->mask = mask;
	for (size_t i = 0; i < ks->n; i++)
		slot_put(ks, i);
	return 0;
}

int
keyset_add(struct keyset *ks, uint64_t k1, uint64_t k2, int64_t value, unsigned char flag)
{
	int r = keyset_reserve(ks, ks->n + 1);

	if (r < 0)
		return r;
	ks->e[ks->n] = (struct keyset_entry){ .k1 = k1, .k2 = k2, .value = value };
	ks->flag[ks->n] = flag;
	slot_put(ks, ks->n++);
	return 0;
}

void
keyset_free(struct keyset *ks)
{
	if (ks == NULL)
		return;
	free(ks->e);
	free(ks->flag);
	free(ks->slot);
	memset(ks, 0, sizeof(*ks));
}
