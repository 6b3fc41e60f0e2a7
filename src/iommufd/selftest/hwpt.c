/*
 * IOMMU_TEST_CMD operations on HW page tables: IOMMU_TEST_OP_DIRTY, which
 * marks pages of a mock paging domain dirty as device writes would, and
 * IOMMU_TEST_OP_MD_CHECK_IOTLB, which checks one entry of a mock nested
 * domain's IOTLB after HWPT_INVALIDATE (the kernel's selftest.c).
 */
#include <stdlib.h>

#include "iommufd/iommufd_private.h"
#include "iommufd/selftest/selftest.h"
#include "softiommu/mock.h"

/* The selftest's bound on the bits one DIRTY call may name (16 MiB of
 * bitmap). */
#define TEST_DIRTY_MAX_BITS ((uint64_t)16 * 1024 * 1024 * 8)

int iommufd_test_dirty(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	uint64_t page_size = cmd->dirty.page_size, nbits, count = 0;
	struct iommufd_object *obj;
	struct sio_domain *domain;
	unsigned char *bits;
	size_t nbytes;
	int rc;

	if (!page_size || !cmd->dirty.length || cmd->dirty.iova % page_size ||
	    cmd->dirty.length % page_size || !cmd->dirty.uptr)
		return sio_err(-EINVAL,
			       "IOMMU_TEST_OP_DIRTY: unaligned range or no bitmap");
	nbits = cmd->dirty.length / page_size;
	if (nbits > TEST_DIRTY_MAX_BITS)
		return sio_err(-EOVERFLOW,
			       "IOMMU_TEST_OP_DIRTY: more than %lu pages", (unsigned long)TEST_DIRTY_MAX_BITS);
	obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_PAGING,
				 &rc);
	if (!obj)
		return rc;
	domain = to_hwpt(obj)->domain;
	if (!sio_mock_domain_is_mock(domain) ||
	    !sio_domain_dirty_tracking(domain)) {
		rc = sio_err(-EINVAL,
			     "IOMMU_TEST_OP_DIRTY: not a mock domain tracking dirty pages");
		goto out_put;
	}
	nbytes = (nbits + 7) / 8;
	bits = sio_malloc(nbytes);
	if (!bits) {
		rc = sio_err(-ENOMEM, "IOMMU_TEST_OP_DIRTY: out of memory");
		goto out_put;
	}
	if (sio_umem_read(ucmd->ictx->host->owner, bits, cmd->dirty.uptr,
			  nbytes)) {
		rc = sio_err(-EFAULT,
			     "IOMMU_TEST_OP_DIRTY: bitmap not readable");
		goto out_free;
	}
	/* Bit i of the program's __u64 words is bit i % 8 of byte i / 8 on
	 * the little-endian machines we run on. */
	for (uint64_t i = 0; i < nbits; i++) {
		if (!(bits[i / 8] & (1u << (i % 8))))
			continue;
		/* An unmapped page has nothing to mark, as in the kernel,
		 * but it still counts as named. */
		sio_mock_domain_set_dirty(domain, cmd->dirty.iova + i * page_size);
		count++;
	}
	cmd->dirty.out_nr_dirty = count;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	free(bits);
out_put:
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

int iommufd_test_md_check_iotlb(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct iommufd_object *obj;
	uint32_t value;
	int rc;

	obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_NESTED,
				 &rc);
	if (!obj)
		return rc;
	rc = sio_mock_nested_iotlb(to_hwpt(obj)->domain, cmd->check_iotlb.id,
				   &value);
	if (!rc && value != cmd->check_iotlb.iotlb)
		rc = sio_err(-EINVAL,
			     "IOMMU_TEST_OP_MD_CHECK_IOTLB: IOTLB %u holds another value", cmd->check_iotlb.id);
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}
