# parley — one plain Makefile. `make` builds, `make run` serves, `make check` tests.
PORT    ?= 8080
WS_PORT ?= $(shell expr $(PORT) + 1)
PARLEY_VAR ?= $(CURDIR)/var
# The first rule below (version.o) must not become the goal of a plain `make`.
.DEFAULT_GOAL := all

CC      ?= cc
# fcgi: Debian 12's libfcgi-dev ships fcgi.pc (-lfcgi, no cflags).
PKGS    := sqlite3 libpq libsodium libjwt libcjson fcgi
WSPKGS  := libwebsockets
WARN    := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat-security -Wno-unused-parameter
# CFLAGS, CPPFLAGS and LDFLAGS are the user's (optimisation, sanitizers,
# Debian's hardening flags from dpkg-buildflags); PL_CFLAGS and
# PL_CPPFLAGS add ours, and every compile and link line uses them.
CFLAGS  ?= -O2 -g
PKG_CFLAGS   := $(shell pkg-config --cflags $(PKGS) GraphicsMagick 2>/dev/null)
WSPKG_CFLAGS := $(shell pkg-config --cflags $(WSPKGS) 2>/dev/null)
WSPKG_LIBS   := $(shell pkg-config --libs $(WSPKGS) 2>/dev/null)
CMOCKA_LIBS  := $(shell pkg-config --libs cmocka 2>/dev/null)
PL_CPPFLAGS = -D_DEFAULT_SOURCE -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) $(CPPFLAGS)
PL_CFLAGS = $(CFLAGS) -std=c11 $(WARN)
ifeq ($(WERROR),1)
PL_CFLAGS += -Werror
endif
# Each compile also writes the headers (and included .c files) it read
# into a .d file next to its output; those are included at the end, so a
# changed header rebuilds exactly what includes it.
DEPFLAGS := -MMD -MP
# libpq is not linked: lib/db_pg.c loads it with dlopen on the first
# PostgreSQL connection (its headers are still needed), and lib/thumb.c loads
# GraphicsMagick the same way, in a child process. libmagic (sniff.c)
# is needed only by the programs that take uploads: --as-needed keeps it
# out of the others (every CGI request pays for each library it loads).
LDLIBS_CORE := $(shell pkg-config --libs $(filter-out libpq,$(PKGS)) 2>/dev/null) -lm \
	-Wl,--as-needed -lmagic -Wl,--no-as-needed
B       := build

# The release, in one place (lib/version.h): only lib/version.c is given
# it, so a new number rebuilds one object (and relinks).
VERSION := $(shell cat VERSION)
$(B)/lib/version.o: VERSION
$(B)/lib/version.o: PL_CPPFLAGS += -DPL_VERSION='"$(VERSION)"'

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
LIB_A    := $(B)/libparley.a

APPS     := $(patsubst fcgi-apps/%.c,%,$(wildcard fcgi-apps/*.c))
APP_OBJ  := $(APPS:%=$(B)/fcgi-apps/%.o)
APP_BINS := $(APPS:%=$(B)/bin/parley-%)
WS_SRC   := $(wildcard ws-daemon/*.c)
WS_OBJ   := $(WS_SRC:%.c=$(B)/%.o)
WS_BIN   := $(B)/bin/parley-wsd
CTL_BIN  := $(B)/bin/parleyctl
# parley-hookd, the outgoing webhook worker: the only program linked with libcurl.
HOOKD_SRC := $(wildcard hookd/*.c)
HOOKD_OBJ := $(HOOKD_SRC:%.c=$(B)/%.o)
HOOKD_BIN := $(B)/bin/parley-hookd
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell pkg-config --libs libcurl 2>/dev/null)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS:= $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps check-deps run check unit integration clean install uninstall cgi sanitize fuzz fuzz-build docs \
	dist check-dist deb check-deb check-container bundle check-bundle

# Installation (FHS): make install PREFIX=/usr/local DESTDIR=
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
STATEDIR   ?= /var/lib/parley
BINDIR     := $(PREFIX)/bin
SBINDIR    := $(PREFIX)/sbin
LIBEXECDIR := $(PREFIX)/libexec/parley
DATADIR    := $(PREFIX)/share/parley
DOCDIR     := $(PREFIX)/share/doc/parley
MANDIR     := $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR  ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR  ?= $(PREFIX)/lib/tmpfiles.d
SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
	-e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@STATEDIR@|$(STATEDIR)|g'
UNITS := parley-wsd.service parley-hookd.service parley-migrate.service parley-fcgi@.socket parley-fcgi@.service
all: $(APP_BINS) $(WS_BIN) $(CTL_BIN) $(HOOKD_BIN)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(PL_CPPFLAGS) $(PL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

# rm first: ar only adds and replaces, so an object whose source was
# removed or renamed would stay in the archive.
$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

# A static pattern rule: the objects are named targets, so make keeps them
# (as intermediates of an implicit chain they would be deleted and rebuilt).
$(APP_BINS): $(B)/bin/parley-%: $(B)/fcgi-apps/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(PL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_CORE)

$(CTL_BIN): $(B)/tools/parleyctl.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(PL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_CORE)

$(B)/ws-daemon/%.o: ws-daemon/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PL_CPPFLAGS) $(WSPKG_CFLAGS) $(PL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(WS_BIN): $(WS_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(PL_CFLAGS) $(LDFLAGS) -o $@ $^ $(WSPKG_LIBS) $(LDLIBS_CORE)

$(B)/hookd/%.o: hookd/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PL_CPPFLAGS) $(CURL_CFLAGS) $(PL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(HOOKD_BIN): $(HOOKD_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(PL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CURL_LIBS) $(LDLIBS_CORE)

# Compiled and linked in one step; the .d file also lists the lib/*.c
# files a test includes to reach static functions.
$(B)/tests/%: tests/unit/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(PL_CPPFLAGS) $(PL_CFLAGS) $(DEPFLAGS) -MF $@.d -MT $@ $(LDFLAGS) -o $@ $< \
		$(LIB_A) $(CMOCKA_LIBS) $(LDLIBS_CORE)

# Install any missing Debian package (says what it installs), then nothing else.
deps:
	@scripts/deps.sh

# Install nothing: name what is missing and how to get it (make deps), and stop.
check-deps:
	@scripts/deps.sh --check

# make run keeps verification mails in $(PARLEY_VAR)/mail/ instead of
# sending them (PARLEY_DEV_MAIL, scripts/mailbox.sh).
# make run ENGINE=postgres: the same on a local PostgreSQL cluster in
# $(PARLEY_VAR)/pg (scripts/pg.sh), kept between runs, stopped on Ctrl-C.
ENGINE ?= sqlite
run:
	@ENGINE=$(ENGINE) scripts/deps.sh --run
	@$(MAKE) --no-print-directory all
	PORT=$(PORT) WS_PORT=$(WS_PORT) PARLEY_VAR=$(PARLEY_VAR) PARLEY_DEV_MAIL=1 \
	PARLEY_LOCAL_PG=$(if $(filter postgres,$(ENGINE)),1,0) scripts/serve.sh

# The settings table of README.md and the KEYS of man/parley.conf.5, from
# lib/config_keys.h (make check fails when they differ).
docs:
	@scripts/settings.py

# The two halves of make check, for a quicker loop while working.
unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done

integration: all
	/usr/bin/python3 -m pytest tests/integration -q

# The same programs and unit tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer (any report aborts the process, so the suites
# see it as a failure). make check runs the suites on this build too.
SAN_B     := build/san
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
sanitize:
	@$(MAKE) --no-print-directory B=$(SAN_B) CFLAGS="$(SAN_FLAGS)" WERROR=1 all \
		$(UNIT_SRC:tests/unit/%.c=$(SAN_B)/tests/%)

# libFuzzer targets (tests/fuzz/): the library built with clang and
# coverage, each target linked with the fuzzer. make fuzz FUZZ_SECONDS=N.
FUZZ_B      := build/fuzz
FUZZ_FLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_B)/%)
FUZZ_SECONDS ?= 60
fuzz-build:
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=clang CFLAGS="$(FUZZ_FLAGS)" $(FUZZ_B)/libparley.a
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

FUZZ_CPPFLAGS = -D_DEFAULT_SOURCE -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) $(CPPFLAGS)
FUZZ_LINK     = $(subst fuzzer-no-link,fuzzer,$(FUZZ_FLAGS))
$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_B)/libparley.a
	clang $(FUZZ_CPPFLAGS) $(FUZZ_LINK) $(DEPFLAGS) -MF $@.d -MT $@ $(LDFLAGS) \
		-o $@ $< $(FUZZ_B)/libparley.a $(LDLIBS_CORE)

# fuzz_dispatch runs every FastCGI program's routes: each fcgi-apps/<name>.c
# is compiled with main and pl_app_main renamed, so calling
# pl_fuzz_main_<name> hands its route table to the fuzzer (the programs
# themselves are unchanged).
FUZZ_APP_OBJ := $(APPS:%=$(FUZZ_B)/fcgi-apps/%.o)
$(FUZZ_B)/fcgi-apps/%.o: fcgi-apps/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CPPFLAGS) $(FUZZ_FLAGS) -std=c11 $(DEPFLAGS) \
		-Dmain=pl_fuzz_main_$* -Dpl_app_main=pl_fuzz_app_main -c -o $@ $<
$(FUZZ_B)/fuzz_dispatch: tests/fuzz/fuzz_dispatch.c $(FUZZ_APP_OBJ) $(FUZZ_B)/libparley.a
	clang $(FUZZ_CPPFLAGS) $(FUZZ_LINK) $(DEPFLAGS) -MF $@.d -MT $@ $(LDFLAGS) \
		-DPL_FUZZ_APPS='$(foreach a,$(APPS),X($(a)))' -DPL_FUZZ_SCHEMA_DIR='"$(CURDIR)/schema"' \
		-o $@ $< $(FUZZ_APP_OBJ) $(FUZZ_B)/libparley.a $(LDLIBS_CORE)

fuzz: deps fuzz-build
	@scripts/fuzz.sh $(FUZZ_SECONDS)

# Never installs anything (.ci/run runs make deps first).
check: check-deps
	@$(MAKE) --no-print-directory WERROR=1 all $(UNIT_BINS)
	@$(MAKE) --no-print-directory sanitize
	@$(MAKE) --no-print-directory fuzz-build
	@SAN_BIN=$(SAN_B)/bin SAN_UNIT="$(UNIT_SRC:tests/unit/%.c=$(SAN_B)/tests/%)" \
		scripts/check.sh $(UNIT_BINS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(DATADIR)/schema/postgres $(DESTDIR)$(DATADIR)/www $(DESTDIR)$(DATADIR)/errors $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/parley
	install -m 0755 $(CTL_BIN) $(DESTDIR)$(BINDIR)/parleyctl
	install -m 0755 $(WS_BIN) $(DESTDIR)$(SBINDIR)/parley-wsd
	install -m 0755 $(HOOKD_BIN) $(DESTDIR)$(SBINDIR)/parley-hookd
	install -m 0755 $(APP_BINS) $(DESTDIR)$(LIBEXECDIR)/
	install -m 0644 schema/*.sql $(DESTDIR)$(DATADIR)/schema/
	install -m 0644 schema/postgres/*.sql $(DESTDIR)$(DATADIR)/schema/postgres/
	cp -R www/. $(DESTDIR)$(DATADIR)/www/ 2>/dev/null || true
	install -m 0644 contrib/errors/status-*.html $(DESTDIR)$(DATADIR)/errors/
	install -m 0644 README.md docs/DECISIONS.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 lighttpd.conf.example nginx.conf.example $(DESTDIR)$(DOCDIR)/examples/
	$(SUBST) parley.conf.example > $(DESTDIR)$(DOCDIR)/examples/parley.conf
	install -m 0644 man/parley.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 man/parleyctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/parley-wsd.8 man/parley-hookd.8 $(DESTDIR)$(MANDIR)/man8/
	for u in $(UNITS); do $(SUBST) contrib/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u; done
	install -m 0644 contrib/systemd/parley.sysusers $(DESTDIR)$(SYSUSERSDIR)/parley.conf
	install -m 0644 contrib/systemd/parley.tmpfiles $(DESTDIR)$(TMPFILESDIR)/parley.conf
	@# The config file is the admin's: installed once, never overwritten.
	test -e $(DESTDIR)$(SYSCONFDIR)/parley/parley.conf || \
		{ $(SUBST) parley.conf.example > $(DESTDIR)$(SYSCONFDIR)/parley/parley.conf && \
		  chmod 0640 $(DESTDIR)$(SYSCONFDIR)/parley/parley.conf; }

# Plain CGI for shared hosts: the same programs, named parley-<name>.cgi.
cgi: all
	for a in $(APPS); do install -m 0755 $(B)/bin/parley-$$a cgi-bin/parley-$$a.cgi; done

# Removes what install put in place, except the configuration, the token
# key and the data (/etc/parley, $(STATEDIR)): those are the admin's.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/parleyctl $(DESTDIR)$(SBINDIR)/parley-wsd $(DESTDIR)$(SBINDIR)/parley-hookd
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(MANDIR)/man5/parley.conf.5 $(DESTDIR)$(MANDIR)/man8/parleyctl.8
	rm -f $(DESTDIR)$(MANDIR)/man8/parley-wsd.8 $(DESTDIR)$(MANDIR)/man8/parley-hookd.8
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	rm -f $(DESTDIR)$(SYSUSERSDIR)/parley.conf $(DESTDIR)$(TMPFILESDIR)/parley.conf

clean:
	rm -rf $(B)

# Release (issue 18): the source tarball, the Debian package, their checks.
# make dist: build/parley-$(VERSION).tar.gz from git archive of the tracked
# files as they are in the work tree (git stash create; HEAD when clean).
DIST := $(B)/parley-$(VERSION).tar.gz
dist:
	@mkdir -p $(B)
	tree=$$(git stash create) && git archive --format=tar.gz \
		--prefix=parley-$(VERSION)/ -o $(DIST) $${tree:-HEAD}
	@echo "dist: $(DIST)"

# make check-dist: the tarball unpacked in a temporary directory builds.
check-dist: dist
	@scripts/check-dist.sh $(DIST)

# make deb: the package built by dpkg-buildpackage from the unpacked
# tarball (a clean tree: dh's clean would remove this tree's build/),
# copied to build/, then lintian (errors fail). Its build tools are
# installed here, not by make deps (DEB_DEPS in scripts/deps.sh).
DEB := $(B)/parley_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null || echo amd64).deb
deb: dist
	@scripts/deps.sh --deb
	rm -rf $(B)/deb && mkdir -p $(B)/deb
	tar -xzf $(DIST) -C $(B)/deb
	cd $(B)/deb/parley-$(VERSION) && dpkg-buildpackage -us -uc -b
	cp $(B)/deb/parley_$(VERSION)_*.deb $(B)/
	lintian --fail-on error --suppress-tags-from-file /dev/null $(DEB)
	@echo "deb: $(DEB)"

# make check-deb: installs the package into a throwaway Debian 12 chroot,
# serves from the installed paths, then removes and purges (as root).
check-deb: deb
	@scripts/check-deb.sh $(DEB)

# make check-container: the image built from the Containerfile as it is, on
# Debian base images made here (mmdebstrap; no registry needed), then run
# with podman and tested: the core acceptance suite against the container,
# the volume across restarts, two frontends on one PostgreSQL (root; ~5
# minutes; its tools from scripts/deps.sh --container). make check only
# lints the container files (scripts/lint-container.py).
check-container:
	@scripts/deps.sh --container
	@scripts/check-container.sh

# make bundle: build/parley-cgi-$(VERSION)-linux-x86_64.tar.gz, the CGI
# programs and parleyctl for shared hosts, built in a Debian 11 chroot
# (glibc 2.31) with every library but glibc in them or in its lib/
# (scripts/bundle.sh says which is which). As root; the chroot is cached in
# /var/cache/parley-test. make check-bundle: unpacked into a minimal
# Debian 11 with Apache and none of the libraries, the core and long-poll
# suites through that Apache (scripts/check-bundle.sh; a few minutes).
BUNDLE := $(B)/parley-cgi-$(VERSION)-linux-x86_64.tar.gz
bundle:
	@scripts/deps.sh --bundle
	@scripts/bundle.sh

check-bundle: bundle
	@scripts/check-bundle.sh $(BUNDLE)

# The .d files the compiles above wrote (missing ones are skipped: a first
# build needs none).
-include $(LIB_OBJ:.o=.d) $(WS_OBJ:.o=.d) $(HOOKD_OBJ:.o=.d) $(APP_OBJ:.o=.d) $(B)/tools/parleyctl.d \
	$(UNIT_BINS:=.d) $(FUZZ_BINS:=.d) $(FUZZ_APP_OBJ:.o=.d)
