/*
 * fuzz_conf.c: libFuzzer target for conf_load(). The input is written to an
 * anonymous file and loaded as rosterd.conf: any text is either a config or
 * refused with a message, never a crash or a leak. Inputs with @include are
 * skipped (they would read other files: /dev/zero never ends).
 */
#include "rosterd.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct conf *cf = NULL;
	char err[8192];
	int r;

	if (memmem(data, size, "include", 7) != NULL)
		return 0;
	if (fd < 0) {
		fd = memfd_create("rosterd.conf", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	err[0] = '\0';
	r = conf_load(path, 0, &cf, err, sizeof(err));
	if (r == 0)
		conf_free(cf);
	else if (err[0] == '\0')
		abort();   /* refused without saying why */
	return 0;
}
