/*
 * The emulated machine: what one `softiommu run` process emulates.
 *
 * A machine is an iommufd host (softiommu/iommufd.h), an emulated Intel
 * IOMMU on its system (a soft IOMMU with VT-d second-stage page tables and
 * dirty tracking, as Linux 7.3's intel driver uses for every paging domain
 * of a second-stage IOMMU), the PCI functions of a device list on it, a VFIO
 * subsystem (softiommu/vfio.h) with each function added, and the host
 * namespace around them: the sysfs, /dev and debugfs entries the kernel
 * shows for them, built as a real directory tree (docs/host-namespace.md).
 *
 * The device list: items separated by ';', each a model then options
 * separated by ',':  ioat[,bdf=SSSS:BB:DD.F][,force].  NULL or "" is one
 * ioat at 0100:00:01.0; "none" is no function.
 *
 * The namespace is shared by the processes of one run: the launcher builds
 * it (sio_machine_namespace_build) and each process attaches to it
 * (sio_machine_namespace_attach), which checks that it describes the same
 * machine.  Paths are then mapped with sio_machine_resolve(), and the
 * device nodes and generated files, found by what stat(2) says of them,
 * opened with sio_machine_open().
 */
#ifndef SOFTIOMMU_MACHINE_H
#define SOFTIOMMU_MACHINE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_machine;
struct sio_iommufd_host;
struct sio_vfio;
struct sio_pci_dev;

struct sio_machine_config {
	const char *devices;	/* the device list; NULL or "": the default */
	const char *host_root;	/* where the host's /sys and /dev are: the
				 * real devices a BDF may not take, and
				 * what the namespace must not hide; NULL
				 * for /, a test's fake tree */
};

/* -EINVAL (bad list), -EEXIST (a real device's BDF without force), or
 * what creating a piece returned; sio_last_error() says which. */
SIO_API int sio_machine_create(const struct sio_machine_config *cfg,
			       struct sio_machine **out);
/* Removes the namespace's tree only if this machine built it and this is
 * the process that did. */
SIO_API void sio_machine_destroy(struct sio_machine *m);

SIO_API struct sio_iommufd_host *sio_machine_host(struct sio_machine *m);
SIO_API struct sio_vfio *sio_machine_vfio(struct sio_machine *m);
SIO_API struct sio_iommu *sio_machine_iommu(struct sio_machine *m);

struct sio_machine_device_info {
	uint32_t bdf;			/* SIO_PCI_BDF() */
	const char *model;
	uint16_t vendor, device;
	unsigned int group;		/* /dev/vfio/<group> */
	unsigned int cdev;		/* /dev/vfio/devices/vfio<cdev> */
	struct sio_pci_dev *pdev;
};
SIO_API size_t sio_machine_device_count(const struct sio_machine *m);
/* Calls fn for each function in list order until it returns non-zero,
 * which is returned. */
SIO_API int sio_machine_for_each_device(
	struct sio_machine *m,
	int (*fn)(const struct sio_machine_device_info *info, void *arg),
	void *arg);

/* What the machine's IOMMU saw: map and unmap calls on its domains, and
 * the translations and faults of its functions' DMA (counters). */
struct sio_machine_stats {
	uint64_t maps, unmaps, translations, faults;
};
SIO_API void sio_machine_stats(struct sio_machine *m,
			       struct sio_machine_stats *out);

/* Build the namespace's tree in dir (existing and empty).  The machine
 * then uses it; it does not remove it (the builder of a run does). */
SIO_API int sio_machine_namespace_build(struct sio_machine *m,
					const char *dir);
/* Use the tree another process of the run built in dir: -ESTALE if it
 * describes another machine, -ENOENT if there is none. */
SIO_API int sio_machine_namespace_attach(struct sio_machine *m,
					 const char *dir);
/* Make a private tree in a new directory under $TMPDIR (or /tmp), removed
 * by sio_machine_destroy() or at the exit of this process. */
SIO_API int sio_machine_namespace_private(struct sio_machine *m);
/* The tree's directory, or NULL before one of the three above. */
SIO_API const char *sio_machine_namespace_dir(const struct sio_machine *m);
/* Remove a tree sio_machine_namespace_build() wrote (and dir itself). */
SIO_API int sio_machine_namespace_remove(const char *dir);

enum sio_machine_path_kind {
	SIO_MACHINE_PATH_NONE = 0,	/* not emulated: the host's file */
	SIO_MACHINE_PATH_REDIRECT,	/* the namespace's file at out->path */
	SIO_MACHINE_PATH_UNION,		/* a host directory that also lists
					 * the entries of out->path */
};

struct sio_machine_path {
	enum sio_machine_path_kind kind;
	char path[PATH_MAX];
};

/*
 * Map an absolute path of the process onto the namespace.  The path is
 * matched after repeated '/' and "." components are dropped; ".."
 * components are left for the tree to resolve (its symlinks are the
 * kernel's), and a relative path is never emulated.  Returns out->kind.
 */
SIO_API enum sio_machine_path_kind sio_machine_resolve(
	const struct sio_machine *m, const char *path,
	struct sio_machine_path *out);

/* A file of the tree that an open must not reach: a device node, or a
 * file whose text is made at open. */
struct sio_machine_node {
	unsigned int id;
	bool device;			/* a character device node */
	dev_t rdev;			/* its device number */
};
/* Whether st (stat(2) of a file in the tree, through any of its names)
 * is such a file: 1 and *node, or 0. */
SIO_API int sio_machine_lookup_node(const struct sio_machine *m,
				    const struct stat *st,
				    struct sio_machine_node *node);
/* Open a node with open(2)'s flags: a new descriptor or a negative errno.
 * Device nodes are the VFIO and iommufd opens (sio_vfio_open_*,
 * sio_iommufd_open_fd); the other files are memfds holding their text as
 * of now (the debugfs page-table dump, the config space). */
SIO_API int sio_machine_open(struct sio_machine *m,
			     const struct sio_machine_node *node, int flags);

#ifdef __cplusplus
}
#endif
#endif
