# rosterd: GNU Makefile.
#   make            build build/rosterd and build/rosterctl
#   make demo       install what is missing, build, sync a sample directory
#                   (STORE=pg: into a private PostgreSQL, then active/standby)
#   make check      install what is missing, build, run every test, then again
#                   with AddressSanitizer and UndefinedBehaviorSanitizer, then
#                   the threaded path with ThreadSanitizer (make check-tsan)
#   make check-long the fault tests at their full counts (docs/reliability.md)
#   make check-pg   every integration test with the store in PostgreSQL (make check
#                   runs PG_SMOKE of them)
#   make check-compat  the compat scenarios (tests/compat) on OpenLDAP, Samba AD
#                   and 389-DS, all of them (make check runs them all on OpenLDAP
#                   and t_smoke on the other two; docs/directories.md)
#   make fuzz FUZZ_SECONDS=60   each libFuzzer target for that long (clang)
#   make bench N=100000   the benchmark (bench/README.md); STORE=pg: on PostgreSQL
#   make bench-1m   the benchmark at 1,000,000 people (long)
#   make install    PREFIX=/usr/local DESTDIR= SYSCONFDIR=/etc PLUGINDIR=PREFIX/lib/rosterd/plugins
#                   UNITDIR=$(PREFIX)/lib/systemd/system
#                   COMPLETIONDIR=$(PREFIX)/share/bash-completion/completions; make uninstall
#   make install-sdk  only the plugin SDK: header, rosterd-plugin.pc, rosterd-plugin(3)
#   make clean

CC      ?= cc
PKG_CONFIG ?= pkg-config
PREFIX  ?= /usr/local
PLUGINDIR ?= $(PREFIX)/lib/rosterd/plugins
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=
N       ?= 100000
# The store of make bench and make demo: sqlite, or pg (a private PostgreSQL).
STORE   ?= sqlite

# B is the build directory; the sanitizer build uses build/asan.
B       ?= build
CFLAGS  ?= -O2 -g
SANFLAGS ?=
PKGS    := ldap lber sqlite3 libpq libconfig jansson libsystemd
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CPPFLAGS_ALL = -Idaemon -Iinclude -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 \
               -DPLUGINDIR='"$(PLUGINDIR)"' $(CPPFLAGS)
CFLAGS_ALL   = $(WARN) $(CFLAGS) $(SANFLAGS) -fstack-protector-strong -pthread \
               $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libunistring (search folding, fold.c) has no pkg-config file in Debian 12.
LDLIBS_ALL   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lunistring -pthread $(LDLIBS)
# libxlsxwriter: rosterctl's Excel export (rosterctl_xlsx.c) alone.
XLSX_PKG    := xlsxwriter
LDFLAGS_ALL  = $(SANFLAGS) -Wl,-z,relro,-z,now $(LDFLAGS)

LIB_SRC := daemon/log.c daemon/util.c daemon/config.c daemon/dn.c daemon/dir.c daemon/dir_sync.c \
           daemon/store_sqlite.c daemon/store_pg.c daemon/store_pg_sql.c daemon/store_api.c daemon/store_conf.c daemon/store.c daemon/runs.c daemon/keyset.c daemon/load.c daemon/readahead.c daemon/reconcile.c daemon/hierarchy.c daemon/attrmap.c daemon/source_ldap.c daemon/source_usn.c daemon/source_mem.c daemon/sync.c daemon/sync_print.c daemon/query.c \
           daemon/notify.c daemon/metrics.c daemon/service.c daemon/service_persist.c \
           daemon/actions.c daemon/setting.c daemon/plugin.c daemon/query_courses.c \
           daemon/view.c daemon/fold.c daemon/query_activity.c
LIB_OBJ := $(LIB_SRC:daemon/%.c=$(B)/obj/%.o) $(B)/obj/schema_sql.o $(B)/obj/schema_names.o \
           $(B)/obj/schema_pg_sql.o $(B)/obj/schema_pg_names.o
# Rule plugins: shared objects built against include/rosterd/plugin.h alone,
# exporting only their descriptor.
PLUGINS := course_rules disable_rules archive_rules
PLUGIN_SO := $(PLUGINS:%=$(B)/plugins/%.so)
PLUGIN_CFLAGS = -Iinclude -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 $(WARN) $(CFLAGS) $(SANFLAGS) \
                -fstack-protector-strong -fPIC -fvisibility=hidden
# Test plugins (tests/plugins): a sample, one that fails, one that records
# events, one that kills rosterd (t_crash), and broken builds.
TEST_PLUGIN_SO := $(addprefix $(B)/tests/plugins/,welcome.so failing.so recorder.so crasher.so \
                  wrong_major.so too_small.so no_descriptor.so)
VERSION := $(shell sed -n 's/^\#define ROSTERD_VERSION "\(.*\)"/\1/p' daemon/defs.h)
SCHEMA  := $(sort $(wildcard schema/[0-9]*.sql))
# SQL kept beside the migrations that is none (the temporary tables of a run):
# with the migrations, the source of the named strings of scripts/sqlnames2c.sh.
SCHEMA_TEMP := $(sort $(wildcard schema/temp_*.sql))
# Their PostgreSQL forms (store_pg.c): the same numbers, names and sections.
SCHEMA_PG := $(sort $(wildcard schema/pg/[0-9]*.sql))
SCHEMA_PG_TEMP := $(sort $(wildcard schema/pg/temp_*.sql))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# Helpers the integration tests run (tests/tools/*.c), not tests themselves.
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
# libFuzzer targets (fuzz/fuzz_*.c); the same files with fuzz/replay.c
# replay the seed corpora fuzz/corpus/<target>/ in make check.
FUZZ_TARGETS := dn conf amap filter
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
# Tools of the fault tests (tests/faults): built with the build's flags, but
# the LD_PRELOAD shim without sanitizers (it goes in front of any runtime).
FAULTS_BIN := $(B)/tests/faults/iofail.so $(B)/tests/faults/ldap-proxy \
              $(B)/tests/faults/platform $(FUZZ_TARGETS:%=$(B)/tests/fuzz_%)

.PHONY: fuzz all deps demo check check-long check-compat check-unit check-integration check-faults check-pg \
        check-tsan \
        bench bench-1m install install-sdk uninstall clean faults-bin
.DELETE_ON_ERROR:

all: $(B)/rosterd $(B)/rosterctl $(PLUGIN_SO) $(B)/rosterd-plugin.pc

deps:
	@scripts/install-deps.sh

# -MMD -MP: each object's header dependencies, generated as it is compiled
# (build/obj/*.d), so that changing one header rebuilds only its users.
$(B)/obj/%.o: daemon/%.c | $(B)/obj
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(B)/schema_sql.c: $(SCHEMA) scripts/sql2c.sh | $(B)/obj
	scripts/sql2c.sh $(SCHEMA) > $@

$(B)/obj/schema_sql.o: $(B)/schema_sql.c
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

# Named pieces of schema/: the temporary tables' DDL and the parts of the
# migrations the code uses again (const char schema_NAME[]).
$(B)/schema_names.c: $(SCHEMA) $(SCHEMA_TEMP) scripts/sqlnames2c.sh | $(B)/obj
	scripts/sqlnames2c.sh $(SCHEMA) $(SCHEMA_TEMP) > $@

$(B)/obj/schema_names.o: $(B)/schema_names.c
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

# The PostgreSQL forms: sql2c.sh --pg refuses a migration without its other
# form; every "-- name:" section of the temporary tables has both forms.
$(B)/schema_pg_sql.c: $(SCHEMA_PG) $(SCHEMA) scripts/sql2c.sh | $(B)/obj
	scripts/sql2c.sh --pg $(SCHEMA_PG) > $@

$(B)/schema_pg_names.c: $(SCHEMA_TEMP) $(SCHEMA_PG_TEMP) scripts/sqlnames2c.sh | $(B)/obj
	@grep -h '^-- name:' $(SCHEMA_TEMP) | sort > $@.sqlite
	@grep -h '^-- name:' $(SCHEMA_PG_TEMP) | sort > $@.pg
	@cmp -s $@.sqlite $@.pg || { echo "schema/pg/temp_*.sql: not the sections of" \
	    "schema/temp_*.sql:"; diff $@.sqlite $@.pg; rm -f $@.sqlite $@.pg; exit 1; }
	@rm -f $@.sqlite $@.pg
	scripts/sqlnames2c.sh --pg $(SCHEMA_PG_TEMP) > $@

$(B)/obj/schema_pg_sql.o: $(B)/schema_pg_sql.c
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

$(B)/obj/schema_pg_names.o: $(B)/schema_pg_names.c
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

$(B)/librosterd.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/rosterd: $(B)/obj/rosterd.o $(B)/librosterd.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(B)/rosterctl: $(B)/obj/rosterctl.o $(B)/obj/rosterctl_actions.o $(B)/obj/rosterctl_output.o \
    $(B)/obj/rosterctl_admin.o $(B)/librosterd.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) $(shell $(PKG_CONFIG) --libs $(XLSX_PKG))

-include $(wildcard $(B)/obj/*.d) $(wildcard $(B)/tests/*.d)

$(B)/tests/%: tests/unit/%.c $(B)/librosterd.a | $(B)/tests
	$(CC) $(CPPFLAGS_ALL) -Itests/unit $(CFLAGS_ALL) -Wno-missing-prototypes -MMD -MP \
	    $(LDFLAGS_ALL) -o $@ $< $(B)/librosterd.a $(LDLIBS_ALL) \
	    $(shell $(PKG_CONFIG) --libs cmocka)

# store_sql runs SQL through the store API: it links the library.
$(B)/tools/store_sql: tests/tools/store_sql.c $(B)/librosterd.a | $(B)/tools
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(B)/librosterd.a $(LDLIBS_ALL)

# platform_pg is the learning platform on PostgreSQL: libpq alone.
$(B)/tools/platform_pg: tests/tools/platform_pg.c | $(B)/tools
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< -lpq

$(B)/tools/%: tests/tools/%.c | $(B)/tools
	$(CC) $(CPPFLAGS_ALL) $(WARN) $(CFLAGS) $(SANFLAGS) $(LDFLAGS_ALL) -o $@ $<

$(B)/tests/faults/iofail.so: tests/faults/iofail.c | $(B)/tests/faults
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

$(B)/tests/faults/%: tests/faults/%.c | $(B)/tests/faults
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(LDLIBS_ALL)

$(B)/tests/fuzz_%: fuzz/fuzz_%.c fuzz/replay.c $(B)/librosterd.a | $(B)/tests
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS_ALL) -MMD -MP -o $@ $< fuzz/replay.c \
	    $(B)/librosterd.a $(LDLIBS_ALL)

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
$(B)/rosterd-plugin.pc: Makefile daemon/defs.h $(B)/obj/paths | $(B)/obj
	printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include' \
	    'plugindir=$(PLUGINDIR)' '' 'Name: rosterd-plugin' \
	    'Description: SDK for rosterd rule plugins (rosterd-plugin(3))' \
	    'Version: $(VERSION)' 'Cflags: -I$${includedir}' > $@

$(B)/obj $(B)/tests $(B)/tools $(B)/tests/faults $(B)/plugins $(B)/tests/plugins:
	mkdir -p $@

bench/gen-org: bench/gen-org.c
	$(CC) -O2 -std=c11 -Wall -Wextra -Werror -o $@ $<

bench/persist-probe: bench/persist-probe.c
	$(CC) -O2 -std=c11 -Wall -Wextra -Werror -o $@ $< -lldap -llber -lsqlite3

# ---- tests -----------------------------------------------------------------
# tests/run.sh runs the unit tests and the integration tests against the
# binaries in BIN and prints one "N passed, N failed" line at the end.

ASAN_MAKE := $(MAKE) B=build/asan CFLAGS="-O1 -g" \
	    SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

# PostgreSQL (STORE=pg, tests/lib/pg.sh): make check runs these integration
# tests on it, once, on the plain build; make check-pg runs them all.
PG_SMOKE := t_first_sync t_standby t_platform_pg t_refresh t_safety_held t_plugins_run \
            t_actions t_rosterctl t_groups t_dry_run t_delete_reappear

check: deps
	$(MAKE) lint-man
	$(MAKE) all unit-bin faults-bin
	tests/run.sh build
	STORE=pg TESTS=integration ONLY="$(PG_SMOKE)" tests/run.sh build
	$(ASAN_MAKE) all unit-bin faults-bin
	tests/run.sh build/asan
	$(MAKE) check-tsan

# The one threaded path (readahead.c, a first load reading ahead) under
# ThreadSanitizer: its unit test and the first loads of t_bulk_load.
TSAN_MAKE := $(MAKE) B=build/tsan CFLAGS="-O1 -g" \
	    SANFLAGS="-fsanitize=thread -fno-omit-frame-pointer"
check-tsan: deps
	$(TSAN_MAKE) all unit-bin
	TSAN_OPTIONS=halt_on_error=1:exitcode=97 TESTS=unit ONLY=readahead tests/run.sh build/tsan
	TSAN_OPTIONS=halt_on_error=1:exitcode=97 TESTS=integration ONLY=t_bulk_load \
	    tests/run.sh build/tsan

# The man pages: any mandoc warning or error fails.
.PHONY: lint-man
lint-man:
	mandoc -Tlint -Wwarning docs/*.[0-9]

# The fault tests at the full counts of docs/reliability.md, on the plain build.
check-long: deps
	$(MAKE) all unit-bin faults-bin
	LONG=1 TESTS=faults tests/run.sh build

# Every compat scenario on every server, on the plain build.
check-compat: deps
	$(MAKE) all
	COMPAT=full TESTS=compat tests/run.sh build

.PHONY: unit-bin
unit-bin: $(UNIT_BIN) $(TOOL_BIN) $(PLUGIN_SO) $(TEST_PLUGIN_SO)

faults-bin: $(FAULTS_BIN) bench/gen-org

check-faults: all faults-bin
	TESTS=faults tests/run.sh $(B)

check-unit: all unit-bin
	TESTS=unit tests/run.sh $(B)

check-integration: all
	TESTS=integration tests/run.sh $(B)

check-pg: deps
	$(MAKE) all unit-bin
	STORE=pg TESTS=integration tests/run.sh $(B)

# ---- fuzzing -----------------------------------------------------------------
# make fuzz FUZZ_SECONDS=60: build each target with clang's libFuzzer, ASan and
# UBSan (the library too, in build/fuzz), then run it that long from the seed
# corpus; new inputs go to build/fuzz/corpus/<target>, crashes to build/fuzz/.

fuzz: deps
	$(MAKE) B=build/fuzz CC=$(FUZZ_CC) CFLAGS="-O1 -g" \
	    SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
	    build/fuzz/librosterd.a
	set -e; for t in $(FUZZ_TARGETS); do \
	    $(FUZZ_CC) $(CPPFLAGS_ALL) $(WARN) -O1 -g \
	        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	        -o build/fuzz/fuzz_$$t fuzz/fuzz_$$t.c build/fuzz/librosterd.a $(LDLIBS_ALL); \
	    mkdir -p build/fuzz/corpus/$$t; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	    build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=build/fuzz/$$t- build/fuzz/corpus/$$t fuzz/corpus/$$t \
	        2>&1 | tee build/fuzz/$$t.log | grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|==[0-9]+==|SUMMARY)'; \
	done

# ---- demo and benchmark ------------------------------------------------------

demo: deps
	$(MAKE) all bench/gen-org
	STORE=$(STORE) ROSTERD=$(B)/rosterd ROSTERCTL=$(B)/rosterctl scripts/demo.sh

bench: deps
	$(MAKE) all bench/gen-org bench/persist-probe
	STORE=$(STORE) ROSTERD=$(B)/rosterd ROSTERCTL=$(B)/rosterctl bench/run.sh $(N)

# The same at 1,000,000 people, in a directory of its own (bench/out1m,
# about 6 GB, kept between runs): long (loading the directory alone takes
# a minute, each first sync longer).
bench-1m: deps
	$(MAKE) all bench/gen-org bench/persist-probe
	STORE=$(STORE) BENCH_OUT=bench/out1m ROSTERD=$(B)/rosterd ROSTERCTL=$(B)/rosterctl \
	    bench/run.sh 1000000

# ---- install -------------------------------------------------------------------

UNITS := rosterd.service rosterd-sync.service rosterd-sync.timer
MAN5  := docs/rosterd.conf.5
MAN8  := docs/rosterd.8 docs/rosterctl.8

# install-sdk: only what out-of-tree plugins build against (the header and
# the pkg-config file); install: everything. The units name the binary and
# the config where this install puts them.
install-sdk: $(B)/rosterd-plugin.pc
	install -d $(DESTDIR)$(PREFIX)/include/rosterd $(DESTDIR)$(PREFIX)/share/pkgconfig \
	    $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 0644 include/rosterd/plugin.h $(DESTDIR)$(PREFIX)/include/rosterd/plugin.h
	install -m 0644 $(B)/rosterd-plugin.pc $(DESTDIR)$(PREFIX)/share/pkgconfig/
	install -m 0644 docs/rosterd-plugin.3 $(DESTDIR)$(PREFIX)/share/man/man3/

install: all install-sdk
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/rosterd $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(PLUGINDIR)
	install -m 0755 $(B)/rosterd $(DESTDIR)$(PREFIX)/sbin/rosterd
	install -m 0755 $(B)/rosterctl $(DESTDIR)$(PREFIX)/bin/rosterctl
	install -m 0755 $(PLUGIN_SO) $(DESTDIR)$(PLUGINDIR)/
	install -m 0644 $(MAN8) $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/
	for u in $(UNITS); do \
	    sed -e 's|/usr/local/sbin/|$(PREFIX)/sbin/|' -e 's|/etc/rosterd/|$(SYSCONFDIR)/rosterd/|g' \
	        systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u.tmp && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
	    mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 systemd/rosterd.sysusers $(DESTDIR)$(SYSUSERSDIR)/rosterd.conf
	install -d $(DESTDIR)$(COMPLETIONDIR)
	install -m 0644 completions/rosterctl $(DESTDIR)$(COMPLETIONDIR)/rosterctl
	install -m 0640 conf/rosterd.conf $(DESTDIR)$(SYSCONFDIR)/rosterd/rosterd.conf.example
	test -e $(DESTDIR)$(SYSCONFDIR)/rosterd/rosterd.conf || \
	    install -m 0640 conf/rosterd.conf $(DESTDIR)$(SYSCONFDIR)/rosterd/rosterd.conf

# Leaves rosterd.conf, the bind password and the store alone.
uninstall:
	rm -f $(PLUGINS:%=$(DESTDIR)$(PLUGINDIR)/%.so) \
	    $(DESTDIR)$(PREFIX)/include/rosterd/plugin.h \
	    $(DESTDIR)$(PREFIX)/share/pkgconfig/rosterd-plugin.pc \
	    $(DESTDIR)$(PREFIX)/share/man/man3/rosterd-plugin.3
	rm -f $(DESTDIR)$(PREFIX)/sbin/rosterd $(DESTDIR)$(PREFIX)/bin/rosterctl \
	    $(MAN8:docs/%=$(DESTDIR)$(PREFIX)/share/man/man8/%) \
	    $(MAN5:docs/%=$(DESTDIR)$(PREFIX)/share/man/man5/%) \
	    $(UNITS:%=$(DESTDIR)$(UNITDIR)/%) $(DESTDIR)$(SYSUSERSDIR)/rosterd.conf \
	    $(DESTDIR)$(COMPLETIONDIR)/rosterctl \
	    $(DESTDIR)$(SYSCONFDIR)/rosterd/rosterd.conf.example

clean:
	rm -rf build bench/gen-org bench/persist-probe
