/*
 * notify-listen: a test's stand-in for the service manager and the journal.
 *
 * notify-listen SOCKET binds a Unix datagram socket at SOCKET (removing a
 * stale one first) and prints each datagram it receives as one line on
 * standard output, flushed at once:
 *
 *     12.345678 READY=1<TAB>STATUS=Idle. Last run ...
 *
 * the seconds of CLOCK_MONOTONIC, then the datagram's fields separated by tabs.
 * It reads both the sd_notify(3) protocol (NAME=value lines) and the
 * journal's native protocol, whose values with a line feed are sent as NAME,
 * a line feed, a 64-bit little-endian length and the raw value; a line feed
 * inside a value is printed as "\n". It runs until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void
put_value(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n')
			fputs("\\n", stdout);
		else if (p[i] == '\t')
			fputs("\\t", stdout);
		else
			putchar(p[i]);
	}
}

/* Print the fields of one datagram, tab-separated. */
static void
put_fields(const char *buf, size_t len)
{
	size_t i = 0;
	int nf = 0;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len;
		const char *eq = memchr(buf + i, '=', end - i);

		if (end == i) {          /* an empty line */
			i++;
			continue;
		}
		if (nf++ > 0)
			putchar('\t');
		if (eq != NULL || nl == NULL) {
			put_value(buf + i, end - i);
			i = end + 1;
			continue;
		}
		/* NAME\n<le64 length><value>\n */
		put_value(buf + i, end - i);
		putchar('=');
		i = end + 1;
		if (len - i < 8) {
			fputs("<truncated>", stdout);
			return;
		}
		uint64_t vlen = 0;
		for (int b = 7; b >= 0; b--)
			vlen = (vlen << 8) | (unsigned char)buf[i + (size_t)b];
		i += 8;
		if (vlen > len - i) {
			fputs("<truncated>", stdout);
			return;
		}
		put_value(buf + i, (size_t)vlen);
		i += (size_t)vlen + 1;
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char buf[1 << 17];
	int fd;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify-listen SOCKET (a path of at most %zu bytes)\n",
			sizeof(sa.sun_path) - 1);
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "notify-listen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct timespec ts;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "notify-listen: recv: %s\n", strerror(errno));
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		printf("%lld.%06ld ", (long long)ts.tv_sec, ts.tv_nsec / 1000);
		put_fields(buf, (size_t)n);
		putchar('\n');
		fflush(stdout);
	}
}
