/*
 * broken.c: plugins rosterd must refuse, built from this one file:
 *   -DWRONG_MAJOR  a descriptor for plugin ABI 99.0
 *   -DTOO_SMALL    a descriptor that says it is 16 bytes long
 *   -DNO_DESCRIPTOR  no rosterd_plugin_descriptor at all
 * Each would be harmless if loaded: init does nothing.
 */
#include <rosterd/plugin.h>

static int
init(struct rosterd_ctx *ctx, const struct rosterd_setting *cfg, void **state)
{
	(void)ctx;
	(void)cfg;
	*state = NULL;
	return 0;
}

#if defined(WRONG_MAJOR)
ROSTERD_PLUGIN_EXPORT const struct rosterd_plugin rosterd_plugin_descriptor = {
	.abi_major = 99, .abi_minor = 3, .size = sizeof(struct rosterd_plugin),
	.name = "broken", .version = "0", .init = init,
};
#elif defined(TOO_SMALL)
ROSTERD_PLUGIN_EXPORT const struct rosterd_plugin rosterd_plugin_descriptor = {
	.abi_major = ROSTERD_PLUGIN_ABI_MAJOR, .size = 16,
	.name = "broken", .version = "0", .init = init,
};
#else
/* Exported under another name: rosterd finds nothing. */
ROSTERD_PLUGIN_EXPORT const struct rosterd_plugin not_the_descriptor = {
	ROSTERD_PLUGIN_HEAD, .name = "broken", .version = "0", .init = init,
};
#endif
