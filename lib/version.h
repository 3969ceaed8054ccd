/*
 * version.h — parley's release number, from one place: the file VERSION
 * at the top of the source tree. The Makefile passes it to lib/version.c
 * alone (so a new number rebuilds one object); everything else — the
 * health endpoint, every program's --version, parleyctl version — asks
 * here. debian/changelog, CHANGELOG.md and the man pages' headers must
 * name the same number: scripts/version.sh --check (make check) fails
 * when they drift.
 */
#ifndef PL_VERSION_H
#define PL_VERSION_H

#include <stdbool.h>

/* pl_version: the release, e.g. "0.1.0" (static storage, never NULL). */
const char *pl_version(void);

/*
 * pl_version_option: answers `PROGRAM --version` for a program whose
 * main() may not see its arguments (the FastCGI programs' main takes
 * none): when the process was started with exactly one argument,
 * "--version", it prints "<basename of argv[0]> (parley) <version>" on
 * standard output and returns true (the caller then exits with status 0);
 * otherwise it prints nothing and returns false.
 * The arguments are captured before main() runs: glibc calls the
 * functions of the .init_array section with (argc, argv, envp).
 * Started by a web server as CGI (GATEWAY_INTERFACE set) it returns false
 * whatever the arguments: a server may pass a query string without "="
 * as command-line arguments (RFC 3875, 4.4), so "?--version" is a request
 * like any other.
 */
bool pl_version_option(void);

#endif
