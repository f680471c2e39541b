/*
 * fuzz_filter.c: libFuzzer target for dir_filter_escape(). The escaped value
 * holds no byte that means something in an RFC 4515 filter ("(", ")", "*",
 * "\" other than as an escape, NUL), and unescaping it gives the input back.
 */
#include "rosterd.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *esc = NULL;
	size_t n = 0;

	if (dir_filter_escape((const char *)data, size, &esc) != 0)
		return 0;
	for (const char *p = esc; *p != '\0'; p++, n++) {
		int c = (unsigned char)*p;
		if (c == '(' || c == ')' || c == '*')
			abort();
		if (c == '\\') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (hi < 0 || lo < 0)
				abort();   /* a backslash that is not an escape */
			c = hi << 4 | lo;
			p += 2;
		}
		if (n >= size || c != data[n])
			abort();   /* does not unescape to the input */
	}
	if (n != size)
		abort();
	free(esc);
	return 0;
}
