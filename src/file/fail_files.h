/*
 * Fault injection's files (fail_files.c): the emulated
 * /proc/<pid>/task/<tid>/fail-nth and the debugfs knobs
 * /sys/kernel/debug/{failslab,fail_page_alloc,fail_usercopy}/<attr>, as
 * emulated files the shim and the machine open (docs/fault-injection.md).
 */
#ifndef SIO_FILE_FAIL_FILES_H
#define SIO_FILE_FAIL_FILES_H

#include <stdbool.h>
#include <sys/types.h>

#include "softiommu/fault_inject.h"

/* The attributes of a debugfs fault directory that are emulated. */
enum sio_fail_attr {
	SIO_FAIL_ATTR_PROBABILITY,
	SIO_FAIL_ATTR_INTERVAL,
	SIO_FAIL_ATTR_TIMES,
	SIO_FAIL_ATTR_SPACE,
	SIO_FAIL_ATTR_VERBOSE,
	SIO_FAIL_ATTR_IGNORE_GFP_WAIT,		/* failslab, fail_page_alloc */
	SIO_FAIL_ATTR_IGNORE_GFP_HIGHMEM,	/* fail_page_alloc */
	SIO_FAIL_NR_ATTRS,
};

/* The debugfs directory of kind ("failslab", ...). */
const char *sio_fail_dir_name(enum sio_fail_kind kind);
/* The file name of attr in kind's directory, or NULL if it has none. */
const char *sio_fail_attr_name(enum sio_fail_kind kind, enum sio_fail_attr attr);

/* Open kind's attr with open(2)'s flags: a new emulated descriptor or a
 * negative errno. */
int sio_fail_attr_open(enum sio_fail_kind kind, enum sio_fail_attr attr,
		       int flags);

/* Open the fail-nth file of thread tid of this process (the caller has
 * checked that tid is one): a new emulated descriptor or a negative errno.
 * Reads and writes act on the countdown of tid only when the calling
 * thread is tid (another thread's countdown is out of reach: -EPERM). */
int sio_fail_nth_open(pid_t tid, int flags);

/* Parse what a program wrote to a fail-nth file or a knob, as the
 * kernel's kstrto*_from_user parse it: 0 or a negative errno. */
int sio_fail_parse_uint(const char *s, size_t len, unsigned int *out);
int sio_fail_parse_bool(const char *s, size_t len, bool *out);

#endif
