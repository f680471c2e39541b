/*
 * util.c: small helpers shared by rosterd and rosterctl: bounded string
 * building, UTF-8 checking, text escaped for terminals and logs, time
 * stamps, reading secrets from files, the check of standard output.
 */
#include "util.h"

#include <stdio.h>
#include <stdint.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
str_appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;
	int n;

	if (used >= len)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - used)
		return -ENOSPC;
	return 0;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end;

	if (len == 0)
		return true;   /* s may be NULL then: NULL + 0 is undefined in C */
	end = p + len;
	while (p < end) {
		unsigned c, cp;
		size_t n;

		/* Eight ASCII bytes, none of them NUL, at a time. */
		while ((size_t)(end - p) >= 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			if (((w | ((w & 0x7f7f7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7f7f7fULL)) &
			     0x8080808080808080ULL) != 0x8080808080808080ULL ||
			    (w & 0x8080808080808080ULL) != 0)
				break;
			p += 8;
		}
		if (p == end)
			break;
		c = *p;

		if (c == 0)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}

/* The character at p (n > 0 bytes left): its length with *cp set, or 0 when
 * the bytes there are not UTF-8 (a NUL byte is the character U+0000). */
static size_t
utf8_next(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned c = p[0], v;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	v = c & (0x7f >> len);
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
	    (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return 0;
	*cp = v;
	return len;
}

/* Whether code point cp must not reach a terminal as it is. */
static bool
cp_unsafe(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

bool
text_safe(const char *s, size_t len, unsigned *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c;
		size_t n = utf8_next(p + i, len - i, &c);

		if (n == 0 || cp_unsafe(c)) {
			if (cp != NULL)
				*cp = n == 0 ? 0xfffd : c;
			return false;
		}
		i += n;
	}
	return true;
}

int
text_escape(const char *s, size_t len, char **out)
{
	const unsigned char *p = (const unsigned char *)s;
	char *buf = NULL;
	size_t blen = 0, i = 0;
	FILE *f = open_memstream(&buf, &blen);

	if (f == NULL)
		return -ENOMEM;
	while (i < len) {
		unsigned c;
		size_t n = utf8_next(p + i, len - i, &c);

		if (n == 0 || c < 0x20 || c == 0x7f) {
			fprintf(f, "\\x%02x", p[i]);
			n = 1;
		} else if (cp_unsafe(c)) {
			fprintf(f, "\\u%04X", c);
		} else {
			fwrite(p + i, 1, n, f);
		}
		i += n;
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	return 0;
}

int
stdout_close(void)
{
	int r = 0;

	if (fflush(stdout) != 0)
		r = -errno;
	if (ferror(stdout) && r == 0)
		r = -EIO;
	/* EBADF with nothing left to write: standard output was closed
	 * before we started, and nothing was lost. */
	if (fclose(stdout) != 0 && r == 0 && errno != EBADF)
		r = -errno;
	return r;
}

void
time_now_iso(char out[21])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double
time_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Open the secret file at path: a regular file, not through a link, and
 * with check_mode private to its owner. The descriptor, or a negative errno
 * with err saying why. */
static int
secret_open(const char *path, bool check_mode, char *err, size_t errlen)
{
	struct stat sb;
	int fd, r;

	/* Not through a link (whoever may change the link chooses the file),
	 * and without blocking: opening a FIFO would wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		if (errno == ELOOP && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))
			snprintf(err, errlen, "%s: a symbolic link, not followed: name the file "
				 "itself", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	} else if (!S_ISREG(sb.st_mode)) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: %s, not a regular file", path,
			 S_ISFIFO(sb.st_mode) ? "a FIFO" : S_ISDIR(sb.st_mode) ? "a directory" :
			 S_ISSOCK(sb.st_mode) ? "a socket" : "a device");
	} else if (check_mode && (sb.st_mode & (S_IRWXG | S_IRWXO))) {
		r = -EPERM;
		snprintf(err, errlen, "%s: mode %04o lets others read it; "
			 "allow only its owner (chmod 600)", path,
			 (unsigned)(sb.st_mode & 07777));
	} else {
		return fd;
	}
	close(fd);
	return r;
}

int
secret_check(const char *path, char *err, size_t errlen)
{
	int fd = secret_open(path, true, err, errlen);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int
secret_read(const char *path, bool check_mode, char **out, char *err, size_t errlen)
{
	char buf[1024];
	ssize_t n;
	size_t len = 0;
	int fd, r = 0;

	if ((fd = secret_open(path, check_mode, err, errlen)) < 0)
		return fd;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	if (n < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (len == sizeof(buf) - 1) {
		r = -EFBIG;
		snprintf(err, errlen, "%s: longer than %zu bytes", path, sizeof(buf) - 2);
		goto out;
	}
	buf[len] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len == 0) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: empty", path);
		goto out;
	}
	*out = strdup(buf);
	if (*out == NULL)
		r = -ENOMEM;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return r;
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int
strv_add(struct strv *l, const char *s)
{
	char *copy;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if ((copy = strdup(s)) == NULL)
		return -ENOMEM;
	l->v[l->n++] = copy;
	return 0;
}

void
strv_free(struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct strv){ 0 };
}

int
secret_read_credential(const char *key, const char *name, char **out, char *err, size_t errlen)
{
	const char *credir = getenv("CREDENTIALS_DIRECTORY");
	char *path = NULL;
	int r;

	if (credir == NULL) {
		snprintf(err, errlen, "%s \"%s\": $CREDENTIALS_DIRECTORY is not set "
			 "(LoadCredential= in the unit provides it)", key, name);
		return -ENOENT;
	}
	if (asprintf(&path, "%s/%s", credir, name) < 0)
		return -ENOMEM;
	/* systemd owns the credential's mode; do not second-guess it. */
	r = secret_read(path, false, out, err, errlen);
	free(path);
	return r;
}
