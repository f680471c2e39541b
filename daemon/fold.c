/*
 * fold.c: text folded for searching (fold.h), on libunistring: full case
 * folding with NFKD, then every combining mark (general category M) dropped,
 * so that an accented letter matches its base letter and a ligature its
 * letters. Letters that are not composed with a mark (ø, ł, đ) stay
 * themselves, as Unicode says they are letters of their own. And the
 * comparison of usernames (fold.h), on the same library.
 */
#include "fold.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

int
text_fold(const char *s, size_t len, char **out)
{
	uint8_t *f, *w;
	const uint8_t *r, *end;
	size_t n = 0;

	if (u8_check((const uint8_t *)s, len) != NULL)
		return -EILSEQ;
	if (len == 0)
		return (*out = strdup("")) != NULL ? 0 : -ENOMEM;
	errno = 0;
	f = u8_casefold((const uint8_t *)s, len, NULL, UNINORM_NFKD, NULL, &n);
	if (f == NULL)
		return errno == ENOMEM ? -ENOMEM : -EILSEQ;
	/* drop the marks in place: the result only gets shorter */
	w = f;
	for (r = f, end = f + n; r < end;) {
		ucs4_t uc;
		int k = u8_mbtouc(&uc, r, (size_t)(end - r));

		if (!uc_is_general_category(uc, UC_CATEGORY_M)) {
			memmove(w, r, (size_t)k);
			w += k;
		}
		r += k;
	}
	n = (size_t)(w - f);
	w = realloc(f, n + 1);
	if (w == NULL) {
		free(f);
		return -ENOMEM;
	}
	w[n] = '\0';
	*out = (char *)w;
	return 0;
}

bool
text_fold_contains(const char *s, size_t len, const char *needle)
{
	char *f = NULL, *raw;
	bool found;
	int r = text_fold(s, len, &f);

	if (r == 0) {
		found = strstr(f, needle) != NULL;
		free(f);
		return found;
	}
	if (r != -EILSEQ || (raw = strndup(s, len)) == NULL)
		return false;
	found = strcasestr(raw, needle) != NULL;
	free(raw);
	return found;
}

size_t
username_prepare(char *s)
{
	const uint8_t *r = (const uint8_t *)s, *end = r + strlen(s);
	uint8_t *w = (uint8_t *)s;
	bool space = false;

	while (r < end) {
		size_t k = 1;
		bool sp;

		if (*r < 0x80) {
			sp = *r == ' ';
		} else {
			ucs4_t uc;
			k = (size_t)u8_mbtouc(&uc, r, (size_t)(end - r));
			sp = uc_is_general_category(uc, UC_CATEGORY_Zs);
		}
		if (sp) {
			space = w != (uint8_t *)s;  /* none before the first word */
		} else {
			if (space)
				*w++ = ' ';
			space = false;
			memmove(w, r, k);
			w += k;
		}
		r += k;
	}
	*w = '\0';
	return (size_t)(w - (uint8_t *)s);
}

int
username_key(const char *s, size_t len, char **out)
{
	char *k;
	size_t i, n = 0;

	for (i = 0; i < len && !((unsigned char)s[i] & 0x80); i++)
		;
	if (i == len) {
		if ((k = strndup(s, len)) == NULL)
			return -ENOMEM;
		for (char *c = k; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	} else {
		uint8_t *f;

		if (u8_check((const uint8_t *)s, len) != NULL)
			return -EILSEQ;
		errno = 0;
		f = u8_casefold((const uint8_t *)s, len, NULL, UNINORM_NFKC, NULL, &n);
		if (f == NULL)
			return errno == ENOMEM ? -ENOMEM : -EILSEQ;
		if ((k = realloc(f, n + 1)) == NULL) {
			free(f);
			return -ENOMEM;
		}
		k[n] = '\0';
	}
	/* after the folding, as NFKC makes some characters spaces */
	username_prepare(k);
	*out = k;
	return 0;
}
