/*
 * The device list of an emulated machine: which PCI functions `softiommu
 * run` puts on it, from text such as
 *
 *	ioat;ioat,bdf=0100:00:05.0;ioat,bdf=0000:00:07.0,force
 *
 * Items are separated by ';'.  Each item is a model name, then options
 * separated by ',': "bdf=SSSS:BB:DD.F" (or "BB:DD.F", segment 0) places the
 * function, "force" lets it take a BDF that a real device of the host holds
 * (the emulated one then shadows it).  A function without bdf= takes the
 * next free slot of the machine's own segment (SIO_DEVLIST_SEGMENT, bus 0,
 * device 1 upwards, function 0).  "none" alone is a machine without PCI
 * functions; NULL or "" is the default, one ioat.
 */
#ifndef SIO_MACHINE_DEVLIST_H
#define SIO_MACHINE_DEVLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The PCI segment the emulated functions live in when the list does not
 * place them.  Hosts number their segments from 0 (most have only 0, big
 * servers a few more; Intel VMD domains start at 0x10000), so a segment of
 * its own keeps the emulated functions clear of the real ones; a slot that
 * a real device holds anyway is skipped. */
#define SIO_DEVLIST_SEGMENT 0x0100
#define SIO_DEVLIST_DEFAULT "ioat"
#define SIO_DEVLIST_MAX 64

struct sio_devspec {
	char model[16];
	uint32_t bdf;		/* SIO_PCI_BDF() */
	bool bdf_given;		/* bdf= was in the item */
	bool force;
};

/*
 * Parse list into specs[] (room for SIO_DEVLIST_MAX); *count is how many.
 * sysfs is the host's sysfs root ("/sys"; a test's fake tree) where a
 * given BDF is checked against the real devices (sysfs/bus/pci/devices/
 * <bdf>).  -EINVAL with a message for an empty item, an unknown model or
 * option, a bad BDF, a BDF given twice, too many functions; -EEXIST for a
 * real device's BDF without force.
 */
int sio_devlist_parse(const char *list, const char *sysfs,
		      struct sio_devspec *specs, size_t *count);

#endif
