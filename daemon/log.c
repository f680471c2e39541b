/*
 * log.c: printf-checked logging for rosterd and rosterctl.
 *
 * In the foreground messages go to stderr as "PROG: text", with the level
 * spelled out for warnings and debug. When stderr is the systemd journal
 * (JOURNAL_STREAM names it) and log_force_stderr() was not called, each
 * message goes to the journal natively (sd_journal_sendv) with its priority
 * and rosterd's structured fields: ROSTERD_RUN (the run in progress, see
 * log_set_run), ROSTERD_DN, ROSTERD_USER, ROSTERD_PLUGIN and MESSAGE_ID. If
 * the journal socket refuses a message, it falls back to a "<N>text" line on
 * stderr. Debug messages appear only with -v. A message that carries a
 * control character, a bidirectional override or bytes that are not UTF-8
 * (directory data often comes into messages) is logged escaped (text_escape),
 * so that no value can forge a line or redraw the terminal.
 *
 * A progress line (log_progress) is drawn only when stderr is a terminal; a
 * message written while one is shown clears it first.
 */
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* No CODE_FILE= and CODE_LINE=: they would always name this file. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

static const char *log_prog = "rosterd";
static int log_verbose;
static bool log_journal;
static bool log_tty;
static bool log_progress_shown;
static long long log_run;

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
	log_tty = !log_journal && isatty(fileno(stderr));
}

void
log_force_stderr(void)
{
	log_journal = false;
	log_tty = isatty(fileno(stderr));
}

bool
log_to_journal(void)
{
	return log_journal;
}

void
log_set_run(long long run_id)
{
	log_run = run_id;
}

/* Send one message to the journal with its fields; 0 or negative errno. */
static int
journal_send(enum log_level lvl, const struct log_ctx *f, const char *line)
{
	char prio[16], ident[64], run[48];
	char *bufs[5] = { NULL };
	struct iovec iov[10];
	int n = 0, nb = 0, r = -ENOMEM;

	snprintf(prio, sizeof(prio), "PRIORITY=%d", (int)lvl);
	snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", log_prog);
	iov[n++] = (struct iovec){ .iov_base = prio, .iov_len = strlen(prio) };
	iov[n++] = (struct iovec){ .iov_base = ident, .iov_len = strlen(ident) };
	if (log_run > 0) {
		snprintf(run, sizeof(run), "ROSTERD_RUN=%lld", log_run);
		iov[n++] = (struct iovec){ .iov_base = run, .iov_len = strlen(run) };
	}
	if (f != NULL) {
		const char *const vals[] = { f->message_id, f->dn, f->user, f->plugin };
		const char *const keys[] = { "MESSAGE_ID", "ROSTERD_DN", "ROSTERD_USER",
					     "ROSTERD_PLUGIN" };
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			if (vals[i] == NULL)
				continue;
			if (asprintf(&bufs[nb], "%s=%s", keys[i], vals[i]) < 0) {
				bufs[nb] = NULL;
				goto out;
			}
			iov[n++] = (struct iovec){ .iov_base = bufs[nb], .iov_len = strlen(bufs[nb]) };
			nb++;
		}
	}
	if (asprintf(&bufs[nb], "MESSAGE=%s", line) < 0) {
		bufs[nb] = NULL;
		goto out;
	}
	iov[n++] = (struct iovec){ .iov_base = bufs[nb], .iov_len = strlen(bufs[nb]) };
	nb++;
	r = sd_journal_sendv(iov, n);
out:
	for (int i = 0; i < nb; i++)
		free(bufs[i]);
	return r;
}

static void
clear_progress(void)
{
	if (log_progress_shown) {
		fputs("\r\033[K", stderr);
		log_progress_shown = false;
	}
}

/* Write one message, already safe, where the logs go. */
static void
log_line(enum log_level lvl, const struct log_ctx *f, const char *line)
{
	if (log_journal) {
		if (journal_send(lvl, f, line) >= 0)
			return;
		fprintf(stderr, "<%d>%s\n", (int)lvl, line);
		return;
	}
	clear_progress();
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

/* A message or field value as it may be logged: text_escape()d when it
 * holds what could forge a line or redraw a terminal (directory data often
 * comes into messages); s itself when it is safe. NULL on ENOMEM. */
static const char *
log_safe(const char *s, char **copy)
{
	*copy = NULL;
	if (s == NULL || text_safe(s, strlen(s), NULL))
		return s;
	return text_escape(s, strlen(s), copy) == 0 ? *copy : NULL;
}

static void
log_vwrite(enum log_level lvl, const struct log_ctx *f, const char *fmt, va_list ap)
{
	char buf[4096], *copy = NULL;
	const char *line;

	if (lvl == LOGL_DEBUG && !log_verbose)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	line = log_safe(buf, &copy);
	if (line == NULL)
		line = "(a message that could not be escaped: out of memory)";
	log_line(lvl, f, line);
	free(copy);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(lvl, NULL, fmt, ap);
	va_end(ap);
}

void
log_fields(enum log_level lvl, const struct log_ctx *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(lvl, f, fmt, ap);
	va_end(ap);
}

void
log_progress(const char *fmt, ...)
{
	va_list ap;

	if (!log_tty)
		return;
	fputs("\r", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\033[K", stderr);
	fflush(stderr);
	log_progress_shown = true;
}

void
log_progress_end(void)
{
	clear_progress();
}
