/*
 * rosterd.h: every module header at once, for the unit tests and fuzz
 * targets that reach into several modules. rosterd's own sources include
 * only the headers they use, so that their dependencies show.
 */
#ifndef ROSTERD_H
#define ROSTERD_H

#include "defs.h"
#include "log.h"
#include "util.h"
#include "conf.h"
#include "dn.h"
#include "dir.h"
#include "store.h"
#include "recon.h"
#include "runs.h"
#include "attrmap.h"
#include "actions.h"
#include "setting.h"
#include "plugins.h"
#include "source.h"
#include "sync.h"
#include "sync_print.h"
#include "notify.h"
#include "metrics.h"
#include "service.h"
#include "query.h"
#include "view.h"

#endif
