# parley — one plain Makefile. `make` builds, `make run` serves, `make check` tests.
PORT    ?= 8080
WS_PORT ?= $(shell expr $(PORT) + 1)
PARLEY_VAR ?= $(CURDIR)/var

CC      ?= cc
PKGS    := sqlite3 libsodium libjwt libcjson
WSPKGS  := libwebsockets
WARN    := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(WARN) -Ilib $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
LDLIBS_CORE := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfcgi -lm
B       := build

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
LIB_A    := $(B)/libparley.a

APPS     := $(patsubst fcgi-apps/%.c,%,$(wildcard fcgi-apps/*.c))
APP_BINS := $(APPS:%=$(B)/bin/parley-%)
WS_SRC   := $(wildcard ws-daemon/*.c)
WS_OBJ   := $(WS_SRC:%.c=$(B)/%.o)
WS_BIN   := $(B)/bin/parley-wsd
CTL_BIN  := $(B)/bin/parleyctl
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS:= $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all deps run check unit integration clean
all: $(APP_BINS) $(WS_BIN) $(CTL_BIN)

$(B)/%.o: %.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(B)/bin/parley-%: $(B)/fcgi-apps/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_CORE)

$(CTL_BIN): $(B)/tools/parleyctl.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_CORE)

$(B)/ws-daemon/%.o: ws-daemon/%.c $(wildcard lib/*.h) $(wildcard ws-daemon/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags $(WSPKGS)) -c -o $@ $<

$(WS_BIN): $(WS_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(shell pkg-config --libs $(WSPKGS)) $(LDLIBS_CORE)

$(B)/tests/%: tests/unit/%.c $(LIB_A) $(wildcard lib/*.c)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ilib -o $@ $< $(LIB_A) $(shell pkg-config --libs cmocka) $(LDLIBS_CORE)

# Install any missing Debian package (says what it installs), then nothing else.
deps:
	@scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	PORT=$(PORT) WS_PORT=$(WS_PORT) PARLEY_VAR=$(PARLEY_VAR) scripts/serve.sh

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

integration: all
	@scripts/run-integration.sh

check: deps
	@$(MAKE) --no-print-directory WERROR=1 all $(UNIT_BINS)
	@scripts/check.sh $(UNIT_BINS)

clean:
	rm -rf $(B)
