/*
 * softiommu run [--] PROG [ARGS...]: run an unmodified program with an
 * emulated /dev/iommu (docs/launcher.md).
 *
 * The launcher only sets the environment up: it finds the preload shim,
 * puts it first in LD_PRELOAD (keeping what was there, so other preloads
 * still apply after ours) and replaces itself with the program.  All the
 * emulation happens in the shim, inside the program's process.
 *
 * Where the shim is looked for, first hit wins:
 *  1. $SOFTIOMMU_PRELOAD, when set (and then it must exist);
 *  2. beside the softiommu binary (the build tree puts both at its root);
 *  3. the libdir of the tree the binary is installed in (bindir/../lib, as
 *     configured), so a moved install still works;
 *  4. the install prefix's libdir, fixed at build time.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define PRELOAD_NAME "libsoftiommu-preload.so"

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: softiommu run [--] PROG [ARGS...]\n\n"
		"Runs PROG with an emulated /dev/iommu (an LD_PRELOAD shim).\n"
		"SOFTIOMMU_PRELOAD=PATH chooses the shim library.\n");
}

static bool readable_file(const char *path)
{
	return access(path, R_OK) == 0;
}

/* The shim in directory rel (relative to the softiommu binary's), into
 * buf; false if not there. */
static bool preload_near_exe(const char *rel, char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if ((size_t)snprintf(buf, size, "%s/%s%s%s", exe, rel, *rel ? "/" : "",
			     PRELOAD_NAME) >= size)
		return false;
	return readable_file(buf);
}

static int find_preload(char *buf, size_t size)
{
	const char *env = getenv("SOFTIOMMU_PRELOAD");

	if (env && *env) {
		if (!readable_file(env)) {
			fprintf(stderr, "softiommu run: SOFTIOMMU_PRELOAD=%s: %s\n",
				env, strerror(errno));
			return -1;
		}
		snprintf(buf, size, "%s", env);
		return 0;
	}
	if (preload_near_exe("", buf, size))
		return 0;
#ifdef SIO_PRELOAD_REL_DIR
	if (preload_near_exe(SIO_PRELOAD_REL_DIR, buf, size))
		return 0;
#endif
#ifdef SIO_PRELOAD_INSTALL_PATH
	if (readable_file(SIO_PRELOAD_INSTALL_PATH)) {
		snprintf(buf, size, "%s", SIO_PRELOAD_INSTALL_PATH);
		return 0;
	}
	fprintf(stderr,
		"softiommu run: cannot find " PRELOAD_NAME " beside the softiommu "
		"binary or at " SIO_PRELOAD_INSTALL_PATH
		"; set SOFTIOMMU_PRELOAD to its path\n");
#else
	fprintf(stderr,
		"softiommu run: cannot find " PRELOAD_NAME " beside the softiommu "
		"binary; set SOFTIOMMU_PRELOAD to its path\n");
#endif
	return -1;
}

/* LD_PRELOAD = shim, then whatever was there. */
static int set_ld_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	size_t len;
	char *val;
	int rc;

	/* ld.so splits LD_PRELOAD at spaces and colons. */
	if (strpbrk(shim, " :")) {
		fprintf(stderr, "softiommu run: %s: LD_PRELOAD cannot hold a path "
			"with a space or a colon\n", shim);
		return -1;
	}
	if (!old || !*old)
		return setenv("LD_PRELOAD", shim, 1);
	len = strlen(shim) + 1 + strlen(old) + 1;
	val = malloc(len);
	if (!val)
		return -1;
	snprintf(val, len, "%s:%s", shim, old);
	rc = setenv("LD_PRELOAD", val, 1);
	free(val);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	char shim[PATH_MAX];
	int first = 1;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		run_usage(stdout);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--"))
		first = 2;
	if (first >= argc) {
		run_usage(stderr);
		return 2;
	}
	if (find_preload(shim, sizeof(shim)))
		return 1;
	if (set_ld_preload(shim)) {
		fprintf(stderr, "softiommu run: cannot set LD_PRELOAD\n");
		return 1;
	}
	execvp(argv[first], argv + first);
	/* As a shell reports it: 127 not found, 126 found but not run. */
	if (errno == ENOENT) {
		fprintf(stderr, "softiommu run: %s: command not found\n", argv[first]);
		return 127;
	}
	fprintf(stderr, "softiommu run: %s: %s\n", argv[first], strerror(errno));
	return 126;
}
