/*
 * iofail.c: an LD_PRELOAD shim for the fault tests. It wraps the calls that
 * change files or talk to the directory (write, pwrite, pwrite64, writev,
 * pwritev, fsync, fdatasync, and read on sockets), sorts each call by the
 * file behind its descriptor, counts the calls of the classes asked for, and
 * at the Nth counted call (or from it on) makes it fail with an errno, or
 * kills the process with SIGKILL before the call happens. The program under
 * test is the unchanged binary: nothing in rosterd knows of this.
 *
 * Classes (from /proc/self/fd/N): "store" (a path ending in .db, -wal or
 * -journal: the store's files), "temp" (SQLite's temporary files,
 * etilqs_*), "sock" (a socket), "err" (descriptor 2), "other".
 *
 * Environment (read once, at the first wrapped call):
 *   IOFAIL_CLASSES  comma-separated classes counted (default "store")
 *   IOFAIL_AT       N >= 1: act at the Nth counted call; unset or 0: only count
 *   IOFAIL_ACTION   eio | enospc | kill (default eio)
 *   IOFAIL_PERSIST  1: with eio/enospc, fail every counted call from the Nth on
 *   IOFAIL_LOG      file to append one line per counted call to:
 *                   "N op class path" (for "err", the start of the text)
 * Reads count only on sockets: reading a file changes nothing. Lines printed
 * to stderr with fprintf (rosterd's log) count as "err" calls too, so that a
 * call log shows where the program's phases begin (stdio writes through
 * glibc's internal write, which no shim sees).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum action { ACT_EIO, ACT_ENOSPC, ACT_KILL };

static struct {
	bool ready;
	char classes[128];
	long at;
	enum action action;
	bool persist;
	int log_fd;
	long count;
} st = { .log_fd = -1 };

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

/* The next definition of name (libc's, or a sanitizer's interceptor). */
static void *
next_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (p == NULL)
		abort();
	return p;
}

static void
setup(void)
{
	const char *v;

	if (st.ready)
		return;
	real_write = next_sym("write");
	real_read = next_sym("read");
	real_pwrite = next_sym("pwrite");
	real_pwrite64 = next_sym("pwrite64");
	real_writev = next_sym("writev");
	real_pwritev = next_sym("pwritev");
	real_fsync = next_sym("fsync");
	real_fdatasync = next_sym("fdatasync");
	v = getenv("IOFAIL_CLASSES");
	snprintf(st.classes, sizeof(st.classes), ",%s,", v && *v ? v : "store");
	v = getenv("IOFAIL_AT");
	st.at = v ? strtol(v, NULL, 10) : 0;
	v = getenv("IOFAIL_ACTION");
	st.action = !v || strcmp(v, "eio") == 0 ? ACT_EIO :
		    strcmp(v, "enospc") == 0 ? ACT_ENOSPC : ACT_KILL;
	v = getenv("IOFAIL_PERSIST");
	st.persist = v && strcmp(v, "1") == 0;
	v = getenv("IOFAIL_LOG");
	if (v && *v)
		st.log_fd = open(v, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	st.ready = true;
}

static bool
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The class of descriptor fd; its path in path. */
static const char *
fd_class(int fd, char *path, size_t len)
{
	char link[64];
	ssize_t n;
	const char *base;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, len - 1);
	path[n > 0 ? n : 0] = '\0';
	if (fd == 2)
		return "err";
	if (strncmp(path, "socket:", 7) == 0)
		return "sock";
	if (ends_with(path, " (deleted)"))
		path[strlen(path) - 10] = '\0';
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(base, "etilqs_", 7) == 0)
		return "temp";
	if (ends_with(path, ".db") || ends_with(path, "-wal") || ends_with(path, "-journal"))
		return "store";
	return "other";
}

/* Count the call if its class is counted; 0 to let it happen, or the errno
 * it must fail with. Kills the process when that is the action. */
static int
check(int fd, const char *op, const void *buf, size_t len)
{
	char path[512], line[700], key[32];
	const char *cls;
	long n;

	setup();
	cls = fd_class(fd, path, sizeof(path));
	snprintf(key, sizeof(key), ",%s,", cls);
	if (strstr(st.classes, key) == NULL)
		return 0;
	n = __atomic_add_fetch(&st.count, 1, __ATOMIC_SEQ_CST);
	if (st.log_fd >= 0) {
		int k;
		if (strcmp(cls, "err") == 0 && buf != NULL)
			k = snprintf(line, sizeof(line), "%ld %s %s %.*s\n", n, op, cls,
				     (int)(len < 60 ? len : 60), (const char *)buf);
		else
			k = snprintf(line, sizeof(line), "%ld %s %s %s\n", n, op, cls, path);
		/* a text cut at a line feed still ends the line */
		if (k > 0) {
			char *nl = memchr(line, '\n', (size_t)k < sizeof(line) ? (size_t)k : sizeof(line));
			if (nl != NULL)
				nl[1] = '\0';
			real_write(st.log_fd, line, strlen(line));
		}
	}
	if (st.at <= 0 || n < st.at || (n > st.at && !st.persist))
		return 0;
	switch (st.action) {
	case ACT_KILL:
		kill(getpid(), SIGKILL);
		pause();
		return EINTR;
	case ACT_ENOSPC:
		return ENOSPC;
	default:
		return EIO;
	}
}

#define FAIL_IF(e) do { if ((e) != 0) { errno = (e); return -1; } } while (0)

ssize_t
write(int fd, const void *buf, size_t len)
{
	FAIL_IF(check(fd, "write", buf, len));
	return real_write(fd, buf, len);
}

ssize_t
read(int fd, void *buf, size_t len)
{
	char path[16];

	setup();
	/* Only sockets: "socket:[" fits in path; anything else is a file. */
	if (fd != 2) {
		char link[64];
		ssize_t n;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof(path) - 1);
		if (n >= 7 && strncmp(path, "socket:", 7) == 0)
			FAIL_IF(check(fd, "read", NULL, 0));
	}
	return real_read(fd, buf, len);
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	FAIL_IF(check(fd, "pwrite", NULL, len));
	return real_pwrite(fd, buf, len, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	FAIL_IF(check(fd, "pwrite64", NULL, len));
	return real_pwrite64(fd, buf, len, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	FAIL_IF(check(fd, "writev", NULL, 0));
	return real_writev(fd, iov, n);
}

ssize_t
pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	FAIL_IF(check(fd, "pwritev", NULL, 0));
	return real_pwritev(fd, iov, n, off);
}

int
fsync(int fd)
{
	FAIL_IF(check(fd, "fsync", NULL, 0));
	return real_fsync(fd);
}

int
fdatasync(int fd)
{
	FAIL_IF(check(fd, "fdatasync", NULL, 0));
	return real_fdatasync(fd);
}

/* ---- log lines ---------------------------------------------------------- */

static int
log_line(FILE *f, const char *fmt, va_list ap)
{
	char text[4096];
	int n = vsnprintf(text, sizeof(text), fmt, ap);

	if (n < 0)
		return n;
	if (check(2, "log", text, strlen(text)) != 0)
		return -1;
	return fputs(text, f) < 0 ? -1 : n;
}

int
vfprintf(FILE *f, const char *fmt, va_list ap)
{
	static int (*real_vfprintf)(FILE *, const char *, va_list);

	if (f == stderr)
		return log_line(f, fmt, ap);
	if (real_vfprintf == NULL)
		real_vfprintf = next_sym("vfprintf");
	return real_vfprintf(f, fmt, ap);
}

int
fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

/* What fprintf becomes with _FORTIFY_SOURCE. */
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);

int
__vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	static int (*real_chk)(FILE *, int, const char *, va_list);

	if (f == stderr)
		return log_line(f, fmt, ap);
	if (real_chk == NULL)
		real_chk = next_sym("__vfprintf_chk");
	return real_chk(f, flag, fmt, ap);
}

int
__fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __vfprintf_chk(f, flag, fmt, ap);
	va_end(ap);
	return n;
}
