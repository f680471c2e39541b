# rosterd: GNU Makefile.
#   make            build build/rosterd and build/rosterctl
#   make demo       install what is missing, build, sync a sample directory
#   make check      install what is missing, build, run every test, then again
#                   with AddressSanitizer and UndefinedBehaviorSanitizer
#   make bench N=100000   the benchmark (bench/README.md)
#   make install    PREFIX=/usr/local DESTDIR= SYSCONFDIR=/etc PLUGINDIR=PREFIX/lib/rosterd/plugins
#   make install-sdk  only the plugin SDK: header, rosterd-plugin.pc, rosterd-plugin(3)
#   make clean

CC      ?= cc
PKG_CONFIG ?= pkg-config
PREFIX  ?= /usr/local
PLUGINDIR ?= $(PREFIX)/lib/rosterd/plugins
SYSCONFDIR ?= /etc
DESTDIR ?=
N       ?= 100000

# B is the build directory; the sanitizer build uses build/asan.
B       ?= build
CFLAGS  ?= -O2 -g
SANFLAGS ?=
PKGS    := ldap lber sqlite3 libconfig jansson
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CPPFLAGS_ALL = -Idaemon -Iinclude -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 \
               -DPLUGINDIR='"$(PLUGINDIR)"' $(CPPFLAGS)
CFLAGS_ALL   = $(WARN) $(CFLAGS) $(SANFLAGS) -fstack-protector-strong \
               $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDLIBS_ALL   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) $(LDLIBS)
LDFLAGS_ALL  = $(SANFLAGS) -Wl,-z,relro,-z,now $(LDFLAGS)

LIB_SRC := daemon/log.c daemon/util.c daemon/config.c daemon/dn.c daemon/dir.c \
           daemon/store.c daemon/reconcile.c daemon/attrmap.c daemon/sync.c daemon/query.c \
           daemon/actions.c daemon/setting.c daemon/plugin.c daemon/query_courses.c
LIB_OBJ := $(LIB_SRC:daemon/%.c=$(B)/obj/%.o) $(B)/obj/schema_sql.o
# Rule plugins: shared objects built against include/rosterd/plugin.h alone,
# exporting only their descriptor.
PLUGINS := course_rules disable_rules archive_rules
PLUGIN_SO := $(PLUGINS:%=$(B)/plugins/%.so)
PLUGIN_CFLAGS = -Iinclude -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 $(WARN) $(CFLAGS) $(SANFLAGS) \
                -fstack-protector-strong -fPIC -fvisibility=hidden
# Test plugins (tests/plugins): a sample, one that fails, and broken builds.
TEST_PLUGIN_SO := $(addprefix $(B)/tests/plugins/,welcome.so failing.so wrong_major.so \
                  too_small.so no_descriptor.so)
VERSION := $(shell sed -n 's/^\#define ROSTERD_VERSION "\(.*\)"/\1/p' daemon/rosterd.h)
SCHEMA  := $(sort $(wildcard schema/[0-9]*.sql))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps demo check check-unit check-integration check-asan bench install \
        install-sdk uninstall clean
.DELETE_ON_ERROR:

all: $(B)/rosterd $(B)/rosterctl $(PLUGIN_SO) $(B)/rosterd-plugin.pc

deps:
	@scripts/install-deps.sh

$(B)/obj/%.o: daemon/%.c daemon/rosterd.h include/rosterd/plugin.h | $(B)/obj
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

$(B)/schema_sql.c: $(SCHEMA) scripts/sql2c.sh | $(B)/obj
	scripts/sql2c.sh $(SCHEMA) > $@

$(B)/obj/schema_sql.o: $(B)/schema_sql.c
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

$(B)/librosterd.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/rosterd: $(B)/obj/rosterd.o $(B)/librosterd.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(B)/rosterctl: $(B)/obj/rosterctl.o $(B)/obj/rosterctl_actions.o $(B)/librosterd.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(B)/obj/rosterctl.o $(B)/obj/rosterctl_actions.o: daemon/rosterctl.h

$(B)/tests/%: tests/unit/%.c tests/unit/unit.h tests/unit/storefix.h tests/unit/pluginfix.h $(B)/librosterd.a | $(B)/tests
	$(CC) $(CPPFLAGS_ALL) -Itests/unit $(CFLAGS_ALL) -Wno-missing-prototypes \
	    $(LDFLAGS_ALL) -o $@ $< $(B)/librosterd.a $(LDLIBS_ALL) \
	    $(shell $(PKG_CONFIG) --libs cmocka)

$(B)/plugins/%.so: plugins/%.c plugins/util.c plugins/util.h include/rosterd/plugin.h | $(B)/plugins
	$(CC) $(PLUGIN_CFLAGS) -shared $(LDFLAGS_ALL) -o $@ $< plugins/util.c

$(B)/tests/plugins/%.so: tests/plugins/%.c include/rosterd/plugin.h | $(B)/tests/plugins
	$(CC) $(PLUGIN_CFLAGS) -shared $(LDFLAGS_ALL) -o $@ $<

$(B)/tests/plugins/wrong_major.so $(B)/tests/plugins/too_small.so \
$(B)/tests/plugins/no_descriptor.so: tests/plugins/broken.c include/rosterd/plugin.h | $(B)/tests/plugins
	$(CC) $(PLUGIN_CFLAGS) -D$(shell echo $(basename $(notdir $@)) | tr a-z A-Z) \
	    -shared $(LDFLAGS_ALL) -o $@ $<

# What depends on PREFIX or PLUGINDIR (config.c's default plugin path, the
# .pc file, tests that check the default) is rebuilt when they change.
$(B)/obj/paths: FORCE | $(B)/obj
	@echo '$(PREFIX) $(PLUGINDIR)' | cmp -s - $@ || echo '$(PREFIX) $(PLUGINDIR)' > $@
$(B)/obj/config.o $(B)/tests/test_config $(B)/tests/test_plugin_host: $(B)/obj/paths
.PHONY: FORCE
FORCE:

# pkg-config file for out-of-tree plugins: pkg-config --cflags rosterd-plugin
$(B)/rosterd-plugin.pc: Makefile daemon/rosterd.h $(B)/obj/paths | $(B)/obj
	printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include' \
	    'plugindir=$(PLUGINDIR)' '' 'Name: rosterd-plugin' \
	    'Description: SDK for rosterd rule plugins (rosterd-plugin(3))' \
	    'Version: $(VERSION)' 'Cflags: -I$${includedir}' > $@

$(B)/obj $(B)/tests $(B)/plugins $(B)/tests/plugins:
	mkdir -p $@

bench/gen-org: bench/gen-org.c
	$(CC) -O2 -std=c11 -Wall -Wextra -Werror -o $@ $<

# ---- tests -----------------------------------------------------------------
# tests/run.sh runs the unit tests and the integration tests against the
# binaries in BIN and prints one "N passed, N failed" line at the end.

check: deps
	$(MAKE) all unit-bin
	tests/run.sh build
	$(MAKE) B=build/asan CFLAGS="-O1 -g" \
	    SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    all unit-bin
	tests/run.sh build/asan

.PHONY: unit-bin
unit-bin: $(UNIT_BIN) $(PLUGIN_SO) $(TEST_PLUGIN_SO)

check-unit: all unit-bin
	TESTS=unit tests/run.sh $(B)

check-integration: all
	TESTS=integration tests/run.sh $(B)

# ---- demo and benchmark ------------------------------------------------------

demo: deps
	$(MAKE) all bench/gen-org
	ROSTERD=$(B)/rosterd ROSTERCTL=$(B)/rosterctl scripts/demo.sh

bench: deps
	$(MAKE) all bench/gen-org
	ROSTERD=$(B)/rosterd ROSTERCTL=$(B)/rosterctl bench/run.sh $(N)

# ---- install -------------------------------------------------------------------

# install-sdk: only what out-of-tree plugins build against (the header and
# the pkg-config file); install: everything.
install-sdk: $(B)/rosterd-plugin.pc
	install -d $(DESTDIR)$(PREFIX)/include/rosterd $(DESTDIR)$(PREFIX)/share/pkgconfig \
	    $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 0644 include/rosterd/plugin.h $(DESTDIR)$(PREFIX)/include/rosterd/plugin.h
	install -m 0644 $(B)/rosterd-plugin.pc $(DESTDIR)$(PREFIX)/share/pkgconfig/
	install -m 0644 docs/rosterd-plugin.3 $(DESTDIR)$(PREFIX)/share/man/man3/

install: all install-sdk
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/rosterd $(DESTDIR)$(PLUGINDIR)
	install -m 0755 $(B)/rosterd $(DESTDIR)$(PREFIX)/sbin/rosterd
	install -m 0755 $(B)/rosterctl $(DESTDIR)$(PREFIX)/bin/rosterctl
	install -m 0755 $(PLUGIN_SO) $(DESTDIR)$(PLUGINDIR)/
	install -m 0644 docs/rosterd.8 docs/rosterctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 docs/rosterd.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0640 conf/rosterd.conf $(DESTDIR)$(SYSCONFDIR)/rosterd/rosterd.conf.example
	test -e $(DESTDIR)$(SYSCONFDIR)/rosterd/rosterd.conf || \
	    install -m 0640 conf/rosterd.conf $(DESTDIR)$(SYSCONFDIR)/rosterd/rosterd.conf

uninstall:
	rm -f $(PLUGINS:%=$(DESTDIR)$(PLUGINDIR)/%.so) \
	    $(DESTDIR)$(PREFIX)/include/rosterd/plugin.h \
	    $(DESTDIR)$(PREFIX)/share/pkgconfig/rosterd-plugin.pc \
	    $(DESTDIR)$(PREFIX)/share/man/man3/rosterd-plugin.3
	rm -f $(DESTDIR)$(PREFIX)/sbin/rosterd $(DESTDIR)$(PREFIX)/bin/rosterctl \
	    $(DESTDIR)$(PREFIX)/share/man/man8/rosterd.8 \
	    $(DESTDIR)$(PREFIX)/share/man/man8/rosterctl.8 \
	    $(DESTDIR)$(PREFIX)/share/man/man5/rosterd.conf.5 \
	    $(DESTDIR)$(SYSCONFDIR)/rosterd/rosterd.conf.example

clean:
	rm -rf build bench/gen-org
