/*
 * Shared Virtual Addressing: devices using a process address space (an mm,
 * softiommu/mm.h) through a PASID.
 *
 * This follows the Linux kernel's iommu-sva.c, which refined the io_mm
 * design of the first SVA proposals:
 *  - one PASID per mm, shared by every device bound to it and kept for the
 *    mm's whole life (freed with the mm structure); it comes from the
 *    system's PASID space, in a set whose token is the mm (so PASID
 *    subscribers can follow an mm's PASID by token);
 *  - bind(device, mm) returns a bond; binding the same pair again returns
 *    the same bond with one more user.  As in the kernel, the bond belongs
 *    to the device's group at that PASID: another device of the same group
 *    gets it too;
 *  - SVA domains are shared per (mm, IOMMU) and attached at (device, PASID)
 *    through the core's PASID attach, with the bond's attach handle;
 *  - the driver follows the mm through an MMU notifier: a change of the mm
 *    invalidates the IOTLB and device caches of every bound device before
 *    munmap/mprotect return;
 *  - when the mm exits while bound, devices stop reaching its memory (their
 *    DMA fails), nothing touches freed memory, and unbind still works.
 * Every bond holds a reference on the PASID (BIND/UNBIND events).
 *
 * Errors of bind: -ENODEV for a removed device, -ESRCH for an exited mm,
 * -EOVERFLOW if the mm's PASID is beyond what the device can use, -ENOSPC
 * if no PASID the device can use is free (a device without PASIDs has
 * none), -EBUSY if the PASID is attached to something else on the group,
 * -EOPNOTSUPP if the IOMMU has no SVA, -EINVAL for a device of another
 * system than the mm's PASID.
 */
#ifndef SOFTIOMMU_SVA_H
#define SOFTIOMMU_SVA_H

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_mm;
struct sio_sva;

SIO_API int sio_sva_bind_device(struct sio_device *dev, struct sio_mm *mm,
				struct sio_sva **out);
/* Drop one user of the bond; the last one detaches the PASID (after which
 * the device's DMA on it fails) and frees the bond. */
SIO_API void sio_sva_unbind_device(struct sio_sva *bond);

SIO_API sio_pasid_t sio_sva_get_pasid(const struct sio_sva *bond);
/* The device the bond was made for (the first of its group to bind). */
SIO_API struct sio_device *sio_sva_device(const struct sio_sva *bond);
SIO_API struct sio_domain *sio_sva_domain(const struct sio_sva *bond);
SIO_API unsigned int sio_sva_users(const struct sio_sva *bond);

/* The mm's PASID, or SIO_PASID_INVALID if it was never bound. */
SIO_API sio_pasid_t sio_sva_mm_pasid(struct sio_mm *mm);
/* SVA domains of the mm now (one per IOMMU it is bound through). */
SIO_API unsigned int sio_sva_mm_domains(struct sio_mm *mm);

/*
 * A hook called for every SVA domain this layer makes for a device of sys,
 * after allocation and before its first attach (an error fails the bind):
 * how a layer above prepares them without this one calling up.  The I/O
 * page-fault layer's sio_iopf_sva_install() registers one that makes them
 * fault-capable, so a bound device's DMA to a page the process has not
 * touched yet becomes a page request the mm's fault handler answers.  One
 * hook per system; fn NULL removes it.  Domains made before keep what they
 * had.  When this returns, no call of the previous hook is in progress.
 */
typedef int (*sio_sva_domain_init_fn)(void *arg, struct sio_domain *domain);
SIO_API void sio_sva_set_domain_init(struct sio_system *sys,
				     sio_sva_domain_init_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
