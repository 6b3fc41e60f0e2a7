/*
 * The kernel's side of the ABI test: linux/iommufd.h and linux/vfio.h from
 * linux-libc-dev 7.3 (SIO_KERNEL_HEADERS, searched before the system's
 * headers) and iommufd_test.h from the 7.3 source tree (SIO_KERNEL_SOURCE/
 * drivers/iommu/iommufd).
 */
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include <iommufd_test.h>

#ifndef IOMMU_IOAS_NOIOMMU_GET_PA
#error "linux/iommufd.h is older than 7.3: SIO_KERNEL_HEADERS must point at linux-libc-dev 7.3 (scripts/fetch-kernel.sh)"
#endif

#define ABI_TABLE abi_kernel_facts
#define ABI_NFACTS abi_kernel_nfacts
#include "abi_expand.h"
