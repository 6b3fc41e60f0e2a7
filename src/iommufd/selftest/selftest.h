/*
 * The selftest's mock (IOMMU_TEST_CMD, the kernel's
 * drivers/iommu/iommufd/selftest.c and iommufd_test.h): what its files
 * share.  The core of iommufd knows only iommufd_test() and the selftest
 * object's destroy (iommufd_private.h); a host without the selftest option
 * answers IOMMU_TEST_CMD with -ENOTTY before reaching any of this.
 */
#ifndef SIO_IOMMUFD_SELFTEST_H
#define SIO_IOMMUFD_SELFTEST_H

#include "iommufd/iommufd_private.h"

/* selftest.c: a mock device made by MOCK_DOMAIN */
struct selftest_obj {
	struct iommufd_object obj;
	struct sio_device *dev;		/* probed on the host's mock IOMMU */
	struct iommufd_device *idev;
};

struct selftest_obj *iommufd_get_selftest_obj(struct sio_iommufd *ictx,
					      uint32_t id, int *err);

/* hwpt.c: test ops on HW page tables */
int iommufd_test_dirty(struct iommufd_ucmd *ucmd);
int iommufd_test_md_check_iotlb(struct iommufd_ucmd *ucmd);

/* pasid.c: PASID attachments and page faults of the test ABI,
 * and the mock devices' page-request side (a device model that ignores
 * responses, as the kernel's mock does). */
int iommufd_test_pasid(struct iommufd_ucmd *ucmd);
int iommufd_test_trigger_iopf(struct iommufd_ucmd *ucmd);
int iommufd_selftest_iopf_enable(struct sio_device *dev);

/* viommu.c */
int iommufd_test_trigger_vevent(struct iommufd_ucmd *ucmd);

/* dmabuf.c: the mock dmabuf exporter */
int iommufd_test_dmabuf_get(struct iommufd_ucmd *ucmd, unsigned int open_flags,
			    size_t len);
int iommufd_test_dmabuf_revoke(struct iommufd_ucmd *ucmd, int fd,
			       bool revoked);

#endif
