/*
 * store_conf.c: the store the config names (store.path, or store.url with
 * store.schema and the password from store.password_file or
 * store.password_credential), opened through store.h. The password is read
 * only here, at each open, and wiped once the connection is made.
 */
#include "conf.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>

const char *
conf_store_name(const struct conf *cf)
{
	return cf->store.url != NULL ? cf->store.url : cf->store.path;
}

/* The store's password: NULL when the config gives none. */
static int
store_password(const struct conf *cf, char **pw, char *err, size_t errlen)
{
	*pw = NULL;
	if (cf->store.password_file != NULL)
		return secret_read(cf->store.password_file, true, pw, err, errlen);
	if (cf->store.password_credential != NULL)
		return secret_read_credential("store.password_credential",
					      cf->store.password_credential, pw, err, errlen);
	return 0;
}

int
conf_store_open(const struct conf *cf, int flags, struct store **out, char *err, size_t errlen)
{
	struct store_dsn where = {
		.path = cf->store.path, .url = cf->store.url, .schema = cf->store.schema,
		.busy_timeout_ms = cf->store.busy_timeout,
	};
	char *pw = NULL;
	int r;

	if (cf->store.url != NULL && (r = store_password(cf, &pw, err, errlen)) < 0)
		return r == -ENOMEM ? r : -ENOKEY;   /* the setup's fault (exit 2) */
	where.password = pw;
	r = store_open_at(&where, flags, out, err, errlen);
	secret_free(pw);
	return r;
}
