/*
 * fuzz_dn.c: libFuzzer target for dn_normalize(). Any input either is not a
 * DN (-EINVAL) or has a normal form; the normal form is its own normal form.
 */
#include "rosterd.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *norm = NULL, *again = NULL;

	if (dn_normalize((const char *)data, size, &norm) != 0)
		return 0;
	if (dn_normalize(norm, strlen(norm), &again) != 0 || strcmp(norm, again) != 0)
		abort();   /* a normal form that does not normalise to itself */
	free(norm);
	free(again);
	return 0;
}
