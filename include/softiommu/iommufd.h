/*
 * The iommufd layer: what one open of /dev/iommu is.
 *
 * A struct sio_iommufd is the kernel's struct iommufd_ctx: an object table
 * (IOAS, HW page tables, devices, access objects, fault queues, ...) with
 * IDs, and the ioctl dispatcher that implements Linux 7.3's iommufd uAPI
 * (include/softiommu/uapi/iommufd.h) and the selftest mock ABI
 * (uapi/iommufd_test.h) with the kernel's rules, to the errno.
 *
 * User memory (ioctl arguments, mapped buffers) is reached only through the
 * umem owner the context was opened with: argument structs are copied in and
 * out with fault-safe copies, so a bad pointer is -EFAULT, never a crash.
 *
 * The host is what all contexts of one process share: the emulated
 * machine (a sio_system with a mock IOMMU on which the test ABI creates
 * mock devices) and one umem owner (RLIMIT_MEMLOCK is per process).
 */
#ifndef SOFTIOMMU_IOMMUFD_H
#define SOFTIOMMU_IOMMUFD_H

#include <sys/types.h>

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_iommufd_host;
struct sio_iommufd;
struct sio_umem_owner;

/* What a host offers beyond the kernel's iommufd uAPI. */
#define SIO_IOMMUFD_HOST_SELFTEST (1u << 0)	/* the test ABI and its mock */

struct sio_iommufd_host_opts {
	/* SIO_IOMMUFD_HOST_SELFTEST: a mock IOMMU and IOMMU_TEST_CMD, as a
	 * kernel built with CONFIG_IOMMUFD_TEST.  Without it IOMMU_TEST_CMD
	 * answers -ENOTTY.  `softiommu run` turns it on by default (the
	 * kernel's iommufd selftest needs it). */
	unsigned int flags;
};

/* Create the host: a system (with a mock IOMMU when the selftest ABI is
 * wanted) and the calling process as the owner of user memory.  opts may
 * be NULL: no selftest ABI. */
SIO_API int sio_iommufd_host_create_opts(
	const struct sio_iommufd_host_opts *opts,
	struct sio_iommufd_host **out);
/* The same with the selftest ABI on (SIO_IOMMUFD_HOST_SELFTEST). */
SIO_API int sio_iommufd_host_create(struct sio_iommufd_host **out);
SIO_API void sio_iommufd_host_destroy(struct sio_iommufd_host *host);
/* The system the host's contexts bind devices from: where the VFIO layer,
 * or a VMM, registers IOMMUs and probes the devices iommufd can bind. */
SIO_API struct sio_system *sio_iommufd_host_system(
	struct sio_iommufd_host *host);

/* One open of /dev/iommu. */
SIO_API int sio_iommufd_open(struct sio_iommufd_host *host,
			     struct sio_iommufd **out);
/* The close of the /dev/iommu fd: drops the open's reference.  Objects go
 * when the last reference goes, as in the kernel, where an access object
 * made on the context (its own fd, which may outlive this one) holds the
 * context until it is destroyed. */
SIO_API void sio_iommufd_release(struct sio_iommufd *ictx);

/* Open /dev/iommu as a descriptor: an emulated file (softiommu/file.h)
 * whose ops are this context's ioctl and mmap.  flags are open(2)'s
 * (O_CLOEXEC and O_NONBLOCK are honoured).  Returns the new descriptor or
 * a negative errno.  This is what the shim does for open("/dev/iommu"). */
SIO_API int sio_iommufd_open_fd(struct sio_iommufd_host *host, int flags);

/* An ioctl on the /dev/iommu fd.  arg is the program's pointer (or integer)
 * exactly as passed to ioctl(2).  Returns >= 0 on success (0 for every
 * iommufd command; some test commands return an fd) or a negative errno:
 * -ENOTTY for unknown commands, -EINVAL/-E2BIG for size rules, -EFAULT for
 * bad pointers, and each command's own errors. */
SIO_API long sio_iommufd_ioctl(struct sio_iommufd *ictx, unsigned int cmd,
			       unsigned long arg);

/*
 * mmap() of the /dev/iommu fd: len bytes at offset off, with mmap(2)'s
 * prot and flags; *addr in: the hint (or MAP_FIXED address), out: the
 * mapping.  Only a region a driver offered, exactly (its offset and
 * length, e.g. a vIOMMU's out_mmap_offset/out_mmap_length): -ENXIO
 * otherwise; -EINVAL unless MAP_SHARED; -EPERM with PROT_EXEC.  The
 * mapping keeps its owner object from being destroyed (-EBUSY) until
 * sio_iommufd_munmap() says that the whole mapping (addr, len, off as
 * mapped) is gone; the caller does the munmap(2) itself.
 */
SIO_API int sio_iommufd_mmap(struct sio_iommufd *ictx, void **addr,
			     size_t len, int prot, int flags, off_t off);
SIO_API void sio_iommufd_munmap(struct sio_iommufd *ictx, void *addr,
				size_t len, off_t off);

/* The core device bound to ctx as device object dev_id (an idev ID, e.g.
 * the out_idev_id of the selftest's MOCK_DOMAIN), with a reference taken:
 * how a device model in the process reaches the device to DMA through it.
 * -ENOENT if dev_id is not a device. */
SIO_API int sio_iommufd_device_get(struct sio_iommufd *ictx, uint32_t dev_id,
				   struct sio_device **out);

#ifdef __cplusplus
}
#endif
#endif
