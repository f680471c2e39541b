/*
 * keyset.h: strings (directory ids, DNs) found again by a 128-bit key of
 * their bytes, each with a value and a byte of flags, in memory: an array
 * of entries and an open-addressing table of 4-byte slots at most half
 * full, about 33 bytes an entry. The strings themselves are not kept: two
 * strings with one key cannot be told apart, so keyset_add() marks both
 * KEYSET_SHARED and the caller decides what a shared key means (two
 * different strings share one with odds of about 2^-128 a pair).
 *
 * Use: a zeroed struct keyset, keyset_reserve() for the number expected
 * (optional), keyset_add() each, keyset_find() by key, keyset_free().
 * Entries keep the order they were added in (0, 1, ...). Nothing here logs.
 */
#ifndef ROSTERD_KEYSET_H
#define ROSTERD_KEYSET_H

#include <stddef.h>
#include <stdint.h>

/* The flag keyset_add() sets on entries that share a key; the caller's
 * flags are the other bits. */
#define KEYSET_SHARED 0x80

struct keyset_entry {
	uint64_t k1, k2;
	int64_t value;
};

struct keyset {
	struct keyset_entry *e;     /* n entries, room for cap */
	unsigned char *flag;        /* each entry's flags */
	uint32_t *slot;             /* index + 1; 0 empty; mask + 1 of them */
	size_t n, cap, mask;
};

/* The key of the n bytes at s: two independent 64-bit hashes. */
void keyset_key(const char *s, size_t n, uint64_t *k1, uint64_t *k2);
/* Room for n entries without growing: 0 or -ENOMEM. */
int keyset_reserve(struct keyset *ks, size_t n);
/* Add an entry (index ks->n before the call): 0 or -ENOMEM. A key there
 * already marks both entries KEYSET_SHARED; keyset_find() then finds the
 * first. */
int keyset_add(struct keyset *ks, uint64_t k1, uint64_t k2, int64_t value,
	       unsigned char flag);
/* The index of the entry with this key, or -1. */
long keyset_find(const struct keyset *ks, uint64_t k1, uint64_t k2);
/* The index of the entry of the n bytes at s, or -1. */
long keyset_find_text(const struct keyset *ks, const char *s, size_t n);
/* Free what ks holds and zero it; NULL-safe. */
void keyset_free(struct keyset *ks);

#endif
