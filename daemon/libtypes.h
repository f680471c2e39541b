/*
 * libtypes.h: forward declarations of the libraries' types that module
 * headers name in prototypes, so that a header does not pull in a library's
 * own header (and its users do not depend on it). Only the modules that
 * use a library include its real header.
 */
#ifndef ROSTERD_LIBTYPES_H
#define ROSTERD_LIBTYPES_H

struct config_t;           /* libconfig */
struct config_setting_t;   /* libconfig */
struct json_t;             /* jansson */

#endif
