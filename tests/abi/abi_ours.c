/*
 * softiommu's side of the ABI test: include/softiommu/uapi/ only.  The
 * kernel's uAPI headers are not on this file's include path; the checks
 * below make sure ours did not pull them in some other way.
 */
#include <softiommu/uapi/iommufd.h>
#include <softiommu/uapi/iommufd_test.h>
#include <softiommu/uapi/vfio_compat.h>
#include <softiommu/uapi/vfio.h>

#if defined(_IOMMUFD_H) || defined(_UAPI_IOMMUFD_H) || \
	defined(_UAPI_IOMMUFD_TEST_H) || defined(VFIO_H) || \
	defined(_UAPIVFIO_H) || defined(VFIO_API_VERSION)
#error "softiommu's uAPI headers must not include the kernel's"
#endif

#define ABI_TABLE abi_ours_facts
#define ABI_NFACTS abi_ours_nfacts
#define ABI_VFIO_PREFIXED 1
#include "abi_expand.h"
