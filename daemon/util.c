/*
 * util.c: small helpers shared by rosterd and rosterctl: bounded string
 * building, UTF-8 checking, time stamps and reading secrets from files.
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

int
secret_read(const char *path, bool check_mode, char **out, char *err, size_t errlen)
{
	char buf[1024];
	struct stat sb;
	ssize_t n;
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (check_mode && (sb.st_mode & (S_IRWXG | S_IRWXO))) {
		r = -EPERM;
		snprintf(err, errlen, "%s: mode %04o lets others read it; "
			 "allow only its owner (chmod 600)", path,
			 (unsigned)(sb.st_mode & 07777));
		goto out;
	}
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
