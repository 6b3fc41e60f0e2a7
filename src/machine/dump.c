/*
 * /sys/kernel/debug/iommu/intel/<bdf>/domain_translation_struct: the text
 * Linux 7.3's drivers/iommu/intel/debugfs.c prints for a device's domain.
 *
 * The kernel walks the table of the device's PASID entry (scalable mode,
 * PASID 0 for the RID) from its top level down and prints one line per
 * leaf, in IOVA order: the IOVA page number (IOVA >> 12), '|', then the
 * raw entries on the path from the 5-level root (PML5E) down to the leaf.
 * Levels the table does not have, or below a large leaf, print as 0 in the
 * first three columns and are left out in the last two, so a 2 MiB leaf
 * ends at the PDE column and a 4 KiB leaf has a PTE column.  A domain
 * without a table (blocked, identity) prints nothing, as a PASID entry
 * that is not present or passes through.
 *
 * The entries are those of our VT-d second-stage table, whose "physical"
 * addresses are the host addresses of the library's memory model.
 */
#include "machine/namespace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "softiommu/soft.h"
#include "util/error.h"
#include "util/fail.h"

#define VTD_PAGE_SHIFT 12

/* The kernel's level k (1: 4 KiB entries) is our level k - 1. */
static uint64_t path_entry(const struct sio_pt_leaf *leaf, unsigned int k)
{
	unsigned int l = k - 1;

	if (l >= leaf->levels || l < leaf->level)
		return 0;
	return leaf->entry[l];
}

static int dump_leaf(void *arg, const struct sio_pt_leaf *leaf)
{
	FILE *f = arg;
	uint64_t p2 = path_entry(leaf, 2), p1 = path_entry(leaf, 1);

	fprintf(f, "0x%013llx |\t0x%016llx\t0x%016llx\t0x%016llx",
		(unsigned long long)(leaf->iova >> VTD_PAGE_SHIFT),
		(unsigned long long)path_entry(leaf, 5),
		(unsigned long long)path_entry(leaf, 4),
		(unsigned long long)path_entry(leaf, 3));
	if (p2) {
		fprintf(f, "\t0x%016llx", (unsigned long long)p2);
		if (p1)
			fprintf(f, "\t0x%016llx", (unsigned long long)p1);
	}
	fputc('\n', f);
	return 0;
}

int sio_ns_domain_dump(struct sio_domain *domain, uint32_t bdf, char **text,
		       size_t *len)
{
	struct sio_pt *pt = domain ? sio_soft_domain_pgtable(domain) : NULL;
	FILE *f;

	*text = NULL;
	/* open_memstream allocates: a failslab site like the wrappers. */
	f = sio_should_fail(SIO_FAIL_SLAB) ? NULL : open_memstream(text, len);
	if (!f)
		return sio_err(-ENOMEM, "debugfs: out of memory");
	if (pt) {
		fprintf(f, "Device %04x:%02x:%02x.%x with pasid %x @0x%llx\n",
			SIO_PCI_BDF_SEG(bdf), SIO_PCI_BDF_BUS(bdf),
			SIO_PCI_BDF_DEV(bdf), SIO_PCI_BDF_FN(bdf), 0,
			(unsigned long long)sio_pt_root_address(pt));
		fprintf(f, "%-17s\t%-18s\t%-18s\t%-18s\t%-18s\t%-s\n",
			"IOVA_PFN", "PML5E", "PML4E", "PDPE", "PDE", "PTE");
		sio_pt_for_each_leaf(pt, dump_leaf, f);
	}
	if (fclose(f)) {
		free(*text);
		*text = NULL;
		return sio_err(-ENOMEM, "debugfs: out of memory");
	}
	return 0;
}
