/*
 * softiommu: the command-line entry point.  Dispatches to a subcommand;
 * each lives in its own file.
 */
#include <stdio.h>
#include <string.h>

#include "softiommu/common.h"
#include "cli.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{ "demo", cmd_demo, "a VMM using /dev/iommu, step by step (--vfio: a VFIO driver; --core: the C API)" },
	{ "info", cmd_info, "list the IOMMU drivers and the machine softiommu run emulates" },
	{ "run", cmd_run, "run a program on the emulated machine: /dev/iommu, VFIO devices" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: softiommu <command> [args]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(out, "  %-8s %s\n", "version", "print the library version");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("softiommu %s\n", sio_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "softiommu: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
