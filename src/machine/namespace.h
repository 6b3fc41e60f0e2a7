/*
 * The host namespace of an emulated machine: the sysfs, /dev and debugfs
 * entries the kernel would show for its PCI functions, its IOMMU and VFIO
 * (docs/host-namespace.md lists them).
 *
 * Two halves, both built from a plain description (struct sio_ns_desc:
 * BDFs, IDs, BARs, groups, cdevs), so they are testable without devices:
 *  - sio_ns_build() writes the namespace as a real tree of directories,
 *    files and relative symlinks under a directory, the testbed, exactly
 *    where the kernel has them (<dir>/sys/..., <dir>/dev/...);
 *  - struct sio_ns_layout says which absolute paths of the process are
 *    the testbed's: the roots (an emulated path that does not exist on the
 *    host, or shadows what does), the real directories that also list
 *    emulated entries (unions), and the device nodes and generated files
 *    that an open must reach through the machine.  sio_ns_resolve() maps a
 *    path onto it.
 */
#ifndef SIO_MACHINE_NAMESPACE_H
#define SIO_MACHINE_NAMESPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "softiommu/machine.h"
#include "softiommu/pci.h"

/* Character device numbers.  The kernel's vfio group and vfio-dev majors
 * are dynamic (alloc_chrdev_region); these are values such a host shows.
 * /dev/vfio/vfio is the fixed misc minor VFIO_MINOR; /dev/iommu a
 * dynamic misc minor. */
#define SIO_NS_MISC_MAJOR	10
#define SIO_NS_VFIO_MINOR	196
#define SIO_NS_IOMMU_MINOR	257
#define SIO_NS_VFIO_GROUP_MAJOR	243
#define SIO_NS_VFIO_DEV_MAJOR	242

/* A reserved region of a group, as iommu_groups/<n>/reserved_regions. */
struct sio_ns_resv {
	uint64_t start, last;
	const char *type;		/* "msi", "direct", "reserved", ... */
};

struct sio_ns_bar {
	uint64_t start;			/* bus address the BAR decodes */
	uint64_t size;			/* 0: no BAR */
	unsigned int flags;		/* SIO_PCI_BAR_* */
};

struct sio_ns_function {
	uint32_t bdf;
	uint16_t vendor, device, subsystem_vendor, subsystem_device;
	uint32_t class_code;
	uint8_t revision;
	uint32_t config_size;		/* 256 or 4096 */
	struct sio_ns_bar bars[SIO_PCI_NUM_BARS];
	unsigned int group;		/* iommu_groups/<group>, /dev/vfio/<group> */
	unsigned int cdev;		/* /dev/vfio/devices/vfio<cdev> */
	const char *group_type;		/* the default domain: "DMA", ... */
	const struct sio_ns_resv *resv;
	size_t nresv;
};

struct sio_ns_desc {
	const char *iommu;		/* the IOMMU's sysfs name, "dmar<N>" */
	uint64_t iommu_cap, iommu_ecap;	/* its VT-d capability registers */
	uint64_t iommu_address;		/* its register base */
	const struct sio_ns_function *fns;
	size_t nfns;
};

/* The files of the tree that the machine answers for. */
enum sio_ns_node_kind {
	SIO_NS_DEV_IOMMU,		/* /dev/iommu */
	SIO_NS_DEV_VFIO_CONTAINER,	/* /dev/vfio/vfio */
	SIO_NS_DEV_VFIO_GROUP,		/* /dev/vfio/<index> */
	SIO_NS_DEV_VFIO_CDEV,		/* /dev/vfio/devices/vfio<index> */
	SIO_NS_GEN_DOMAIN_DUMP,		/* debugfs dump of fns[index] */
	SIO_NS_GEN_CONFIG,		/* sysfs config of fns[index] */
	/* debugfs fault-injection attribute: index is
	 * SIO_NS_FAIL_INDEX(kind, attr) (file/fail_files.h) */
	SIO_NS_GEN_FAIL_ATTR,
};
#define SIO_NS_FAIL_INDEX(kind, attr) ((unsigned int)(kind) * 16u + (attr))

struct sio_ns_node {
	enum sio_ns_node_kind kind;
	unsigned int index;
	dev_t rdev;			/* device nodes */
	dev_t st_dev;			/* the placeholder's identity */
	ino_t st_ino;
};

struct sio_ns_layout {
	char **roots;			/* emulated subtrees */
	size_t nroots;
	char **unions;			/* host directories listing some */
	size_t nunions;
	struct sio_ns_node *nodes;
	size_t nnodes;
};

/* Write desc's namespace under dir, which must exist and be empty, and a
 * stamp that sio_ns_stamp_matches() checks. */
int sio_ns_build(const char *dir, const struct sio_ns_desc *desc);

/* Whether dir holds a namespace sio_ns_build() wrote for the same desc:
 * another process of the run shares it.  1 yes, 0 no (another machine),
 * negative errno if dir cannot be read. */
int sio_ns_stamp_matches(const char *dir, const struct sio_ns_desc *desc);

/* The layout of desc's namespace, whose tree is at dir, in the process's
 * filesystem.  real is prepended to absolute paths when the layout checks
 * what the host has ("" for the real root; a test's fake root), which
 * decides the roots: the topmost component of each emulated entry that the
 * host lacks, or the entry itself where the host has it (the emulated one
 * then shadows it). */
int sio_ns_layout_create(const struct sio_ns_desc *desc, const char *dir,
			 const char *real, struct sio_ns_layout **out);
void sio_ns_layout_destroy(struct sio_ns_layout *layout);

/* Resolve an absolute path against layout, whose tree is at dir (see
 * sio_machine_resolve()).  Returns out->kind. */
enum sio_machine_path_kind sio_ns_resolve(const struct sio_ns_layout *layout,
					  const char *dir, const char *path,
					  struct sio_machine_path *out);

/* The node st is (by device and inode), or NULL. */
const struct sio_ns_node *sio_ns_lookup(const struct sio_ns_layout *layout,
					const struct stat *st);

/* Where a function's sysfs directory is (PATH_MAX bytes). */
void sio_ns_fn_dir(const struct sio_ns_function *f, char *buf);

/* The relative symlink text from link to target (both absolute). */
int sio_ns_relative(const char *link, const char *target, char *buf,
		    size_t size);

/* The text of /sys/kernel/debug/iommu/intel/<bdf>/domain_translation_struct
 * for a device whose RID domain is domain (any type: only soft paging
 * domains have a table to show).  *text is malloc()ed. */
struct sio_domain;
int sio_ns_domain_dump(struct sio_domain *domain, uint32_t bdf, char **text,
		       size_t *len);

#endif
