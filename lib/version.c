/*
 * version.c — the release number (version.h). PL_VERSION comes from the
 * Makefile (the file VERSION), given to this file only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "version.h"

#ifndef PL_VERSION
#error "PL_VERSION (the contents of the file VERSION) comes from the Makefile"
#endif

static int saved_argc;
static char **saved_argv;

/* glibc runs .init_array entries before main with main's arguments. */
static void save_args(int argc, char **argv, char **envp)
{
	(void)envp;
	saved_argc = argc;
	saved_argv = argv;
}

__attribute__((section(".init_array"), used))
static void (*const save_args_entry)(int, char **, char **) = save_args;

const char *pl_version(void)
{
	return PL_VERSION;
}

bool pl_version_option(void)
{
	const char *name;

	if (saved_argc != 2 || !saved_argv || !saved_argv[1] ||
	    strcmp(saved_argv[1], "--version") != 0 || getenv("GATEWAY_INTERFACE"))
		return false;
	name = saved_argv[0] ? strrchr(saved_argv[0], '/') : NULL;
	name = name ? name + 1 : (saved_argv[0] ? saved_argv[0] : "parley");
	printf("%s (parley) %s\n", name, PL_VERSION);
	fflush(stdout);
	return true;
}
