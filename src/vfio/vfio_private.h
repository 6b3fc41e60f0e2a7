/*
 * Private definitions of the VFIO layer (the kernel's drivers/vfio/vfio.h
 * and vfio_pci_priv.h together): the subsystem, its groups and devices,
 * and the device files (one per open of a cdev or per GET_DEVICE_FD).
 *
 * Objects and references:
 *  - struct sio_vfio holds a reference on each group and each device it
 *    registered; sio_vfio_destroy() drops them and unregisters the
 *    devices, and nothing points back to it, so open descriptors outlive it.
 *  - A group (struct vfio_group) is one core IOMMU group; a device holds a
 *    reference on its group, the group's list holds one on each registered
 *    device (the kernel's registration reference), a group file one on the
 *    group.
 *  - A device (struct vfio_device) is one PCI function (a reference on the
 *    sio_pci_dev).  Each device file holds a reference on it.
 *  - A device file (struct vfio_device_file) is the kernel's struct
 *    vfio_device_file: the device, the group it came from (NULL for a
 *    cdev), and whether the program may use it yet (access_granted).
 *
 * Lock order (outer first):
 *   1. vfio->lock         the subsystem's registry (vfio.c)
 *   2. group->lock        the group's open file, container, cdev binds and
 *                         device list (the kernel's group_lock)
 *   3. vdev->lock         open count and the iommufd binding (the kernel's
 *                         dev_set->lock)
 *   4. vdev->igate        interrupt configuration (irq.c) and the config
 *                         writes that depend on it (rdwr.c)
 *   5. the function's pdev lock (src/pci), inside which the interrupt sink
 *      runs and takes
 *   6. vdev->trig_lock    the eventfds the sink writes (leaf)
 * iommufd's own locks are taken inside vdev->lock (bind, attach).
 * vdev->mmap_lock (mmap.c) is a leaf taken alone.
 */
#ifndef SIO_VFIO_PRIVATE_H
#define SIO_VFIO_PRIVATE_H

#include <pthread.h>
#include <sys/types.h>

#include "softiommu/pci.h"
#include "softiommu/uapi/vfio.h"
#include "softiommu/vfio.h"
#include "util/error.h"

struct sio_file;
struct sio_file_ops;
struct sio_iommufd;
struct sio_umem_owner;
struct iommufd_device;
struct vfio_group;
struct vfio_device;

/* Where a region lives in the device fd (vfio_pci_core.h): index << 40. */
#define VFIO_PCI_OFFSET_SHIFT 40
#define VFIO_PCI_OFFSET_MASK ((1ull << VFIO_PCI_OFFSET_SHIFT) - 1)
#define VFIO_PCI_INDEX_TO_OFFSET(i) ((uint64_t)(i) << VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_OFFSET_TO_INDEX(o) ((uint64_t)(o) >> VFIO_PCI_OFFSET_SHIFT)

#define OFFSETOFEND(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

/* No interrupt enabled (the kernel's VFIO_PCI_NUM_IRQS as irq_type). */
#define VFIO_IRQ_NONE SIO_VFIO_PCI_NUM_IRQS

struct sio_vfio {
	struct sio_iommufd_host *host;
	struct sio_umem_owner *owner;	/* the host's: argument copies */
	pthread_mutex_t lock;		/* protects everything below */
	struct vfio_device **devices;	/* by cdev number; a reference each */
	unsigned int ndevices, devices_cap;
	struct vfio_group **groups;	/* by group number; a reference each */
	unsigned int ngroups, groups_cap;
};

struct vfio_group {
	unsigned int refs;		/* atomic */
	unsigned int id;		/* /dev/vfio/<id> */
	struct sio_group *group;	/* the core group; a reference */
	struct sio_umem_owner *owner;	/* a reference */
	struct sio_iommufd_host *host;
	/* lock protects the rest (the kernel's group_lock) */
	pthread_mutex_t lock;
	bool opened;			/* one open at a time */
	bool removed;			/* its devices are unregistered */
	struct sio_iommufd *iommufd;	/* the container; a context reference */
	unsigned int cdev_device_open_cnt;	/* devices bound through cdevs */
	struct vfio_device **devs;	/* registered; a reference each */
	unsigned int ndevs, devs_cap;
};

/* A BAR mapping of a device file (mmap.c). */
struct vfio_bar_map;

struct vfio_device {
	unsigned int refs;		/* atomic */
	struct vfio_group *group;	/* a reference */
	struct sio_pci_dev *pdev;	/* a reference */
	struct sio_umem_owner *owner;	/* a reference */
	struct sio_iommufd_host *host;
	unsigned int index;		/* /dev/vfio/devices/vfio<index> */
	char name[16];			/* "ssss:bb:dd.f" */
	uint32_t cfg_size;
	/* Capability positions in config space, 0 if absent: found once,
	 * they never move. */
	uint32_t msi_cap, msix_cap, pcie_cap;
	/* Extended capabilities, read-only to the program: [start, end). */
	struct { uint16_t start, end; } ecaps[8];
	unsigned int necaps;
	bool registered;		/* under group->lock */

	/* lock protects the binding (the kernel's dev_set->lock) */
	pthread_mutex_t lock;
	unsigned int open_count;
	struct sio_iommufd *bound;	/* the context bound to; a reference */
	struct iommufd_device *idev;
	uint32_t devid;
	bool attached;			/* the RID, through iommufd */
	uint32_t *pasids;		/* attached PASIDs */
	unsigned int npasids, pasids_cap;
	bool cdev_opened;
	bool reset_works;		/* atomic load outside lock */

	/* igate protects the interrupt state (irq.c) */
	pthread_mutex_t igate;
	unsigned int irq_type;		/* SIO_VFIO_PCI_*_IRQ_INDEX or NONE */
	unsigned int irq_nvec;		/* MSI/MSI-X vectors enabled */
	/* trig_lock protects the eventfds the sink writes (our dups of the
	 * program's, -1 for none) and INTx masking; leaf. */
	pthread_mutex_t trig_lock;
	int *trig;			/* per MSI/MSI-X vector */
	unsigned int ntrig;
	int intx_trig, err_trig, req_trig;
	bool intx_masked, intx_pending;

	/* mmap_lock protects maps (leaf) */
	pthread_mutex_t mmap_lock;
	struct vfio_bar_map *maps;
};

struct vfio_device_file {
	struct vfio_device *device;	/* a reference */
	struct vfio_group *group;	/* a reference; NULL for a cdev */
	bool access_granted;		/* atomic: set once opened or bound */
	struct sio_iommufd *iommufd;	/* cdev: bound to (a reference) */
	uint32_t devid;
	int64_t pos;			/* read()/write() position */
};

/* vfio.c */
/* The device with cdev number index, the group with number id, with a
 * reference; NULL if there is none. */
struct vfio_device *vfio_lookup_device(struct sio_vfio *vfio,
				       unsigned int index);
struct vfio_group *vfio_lookup_group(struct sio_vfio *vfio, unsigned int id);
struct vfio_group *vfio_group_get(struct vfio_group *group);
void vfio_group_put(struct vfio_group *group);
struct vfio_device *vfio_device_get(struct vfio_device *vdev);
void vfio_device_put(struct vfio_device *vdev);
/* The context behind fd with a reference (-EBADF: not a descriptor,
 * -EBADFD: not an iommufd of this host). */
bool vfio_fd_is_open(int fd);
struct sio_iommufd *vfio_iommufd_from_fd(struct sio_iommufd_host *host,
					 int fd, int *err);
/* Create the descriptor of a VFIO file: O_CLOEXEC and O_NONBLOCK of flags
 * are honoured.  Returns the fd or a negative errno. */
int vfio_file_create(const struct sio_file_ops *ops, void *priv, int flags);

/* device.c: the device file. */
extern const struct sio_file_ops vfio_device_fops;
struct vfio_device_file *vfio_device_file_alloc(struct vfio_device *vdev,
						struct vfio_group *group);
void vfio_device_file_free(struct vfio_device_file *df);
/* Open (group path) or bind (cdev path) the device for df, vdev->lock
 * held: the first open binds to df->iommufd and enables the function. */
int vfio_df_open(struct vfio_device_file *df);
void vfio_df_close(struct vfio_device_file *df);
/* Reset with the kernel's save and restore of config space; igate held. */
int vfio_pci_reset_locked(struct vfio_device *vdev);

/* group.c */
/* The group path's open and close of a device file (GET_DEVICE_FD). */
void vfio_df_group_close(struct vfio_device_file *df);

/* cdev.c */
long vfio_df_ioctl_bind_iommufd(struct vfio_device_file *df, uint64_t uarg);
long vfio_df_ioctl_attach_pt(struct vfio_device_file *df, uint64_t uarg);
long vfio_df_ioctl_detach_pt(struct vfio_device_file *df, uint64_t uarg);
void vfio_df_unbind_iommufd(struct vfio_device_file *df);
/* The iommufd binding of the first open and the last close, vdev->lock
 * held. */
int vfio_device_iommufd_bind(struct vfio_device *vdev,
			     struct sio_iommufd *ictx, uint32_t *devid);
void vfio_device_iommufd_unbind(struct vfio_device *vdev);
int vfio_device_attach_ioas(struct vfio_device *vdev, uint32_t *pt_id);

/* rdwr.c: regions by pread/pwrite. */
ssize_t vfio_pci_rw(struct vfio_device *vdev, uint64_t ubuf, size_t count,
		    uint64_t pos, bool iswrite);

/* mmap.c */
int vfio_pci_mmap(struct vfio_device *vdev, void **addr, size_t len,
		  int prot, int flags, off_t off);
void vfio_pci_munmap(struct vfio_device *vdev, void *addr, size_t len,
		     off_t off);
/* Whether BAR index may be mmapped (GET_REGION_INFO's MMAP flag). */
bool vfio_pci_bar_mmappable(struct vfio_device *vdev, unsigned int index);

/* irq.c */
int vfio_irq_init(struct vfio_device *vdev);
void vfio_irq_fini(struct vfio_device *vdev);
long vfio_pci_ioctl_get_irq_info(struct vfio_device *vdev, uint64_t uarg);
long vfio_pci_ioctl_set_irqs(struct vfio_device *vdev, uint64_t uarg);
/* Tear every interrupt down (last close); igate held. */
void vfio_pci_irqs_disable_locked(struct vfio_device *vdev);
/* Enable again what was enabled, after a reset; igate held. */
void vfio_pci_irqs_restore_locked(struct vfio_device *vdev);
/* The device is going away: signal the REQ eventfd if there is one. */
void vfio_pci_irq_request(struct vfio_device *vdev);

/* Fault-safe copies of the program's memory. */
int vfio_copy_from_user(struct vfio_device *vdev, void *dst, uint64_t uaddr,
			size_t len);
int vfio_copy_to_user(struct vfio_device *vdev, uint64_t uaddr,
		      const void *src, size_t len);

#endif
