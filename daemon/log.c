/*
 * log.c: printf-checked logging for rosterd and rosterctl.
 *
 * Messages go to stderr as "PROG: text", with the level spelled out for
 * warnings and debug. When stderr is the systemd journal (JOURNAL_STREAM names
 * it), each line carries its syslog priority as a "<N>" prefix so journald
 * records it at the right level. Debug messages appear only with -v.
 */
#include "rosterd.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *log_prog = "rosterd";
static int log_verbose;
static bool log_journal;

/* Whether stderr is the stream journald gave us ("DEV:INODE" in JOURNAL_STREAM). */
static bool
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(fileno(stderr), &sb) < 0)
		return false;
	return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

void
log_init(const char *progname, int verbose)
{
	log_prog = progname;
	log_verbose = verbose;
	log_journal = stderr_is_journal();
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	if (lvl == LOGL_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", (int)lvl, line);
		return;
	}
	switch (lvl) {
	case LOGL_ERR:
		fprintf(stderr, "%s: error: %s\n", log_prog, line);
		break;
	case LOGL_WARN:
		fprintf(stderr, "%s: warning: %s\n", log_prog, line);
		break;
	case LOGL_DEBUG:
		fprintf(stderr, "%s: debug: %s\n", log_prog, line);
		break;
	default:
		fprintf(stderr, "%s: %s\n", log_prog, line);
		break;
	}
}
