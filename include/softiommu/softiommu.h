/*
 * softiommu: the Linux IOMMU subsystem as a userspace library.
 * Include this for the whole user-facing API; drivers also include
 * softiommu/driver.h.
 */
#ifndef SOFTIOMMU_H
#define SOFTIOMMU_H

#include "softiommu/common.h"
#include "softiommu/iommu.h"
#include "softiommu/device.h"
#include "softiommu/group.h"
#include "softiommu/domain.h"
#include "softiommu/attach.h"
#include "softiommu/dma.h"
#include "softiommu/iopf.h"
#include "softiommu/mock.h"
#include "softiommu/pgtable.h"
#include "softiommu/soft.h"
#include "softiommu/pasid.h"
#include "softiommu/mm.h"
#include "softiommu/sva.h"
#include "softiommu/soft_sva.h"

#endif
