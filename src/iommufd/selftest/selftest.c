/*
 * IOMMU_TEST_CMD: the selftest mock ABI (the kernel's selftest.c, test
 * side).  The mock devices are core devices probed on the host's mock
 * IOMMU; a "selftest" object (the stdev ID) owns one, its iommufd device
 * binding and its attachment, and destroying it removes the device.
 *
 * The kernel checks mappings and pin counts by looking at struct pages; we
 * have no pages, so MD_CHECK_MAP compares the bytes a domain translates to
 * with the program's bytes, and MD_CHECK_REFS counts the live iopt_pages
 * that pin a page (the kernel's pin count of a page divided by its bias).
 * The access-object operations are in access.c of this directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_private.h"
#include "iommufd/selftest/selftest.h"
#include "softiommu/mock.h"

int iommufd_test_access_op(struct iommufd_ucmd *ucmd);

void iommufd_selftest_destroy(struct iommufd_object *obj)
{
	struct selftest_obj *sobj = sio_container_of(obj, struct selftest_obj,
						     obj);

	iommufd_device_detach_all(sobj->idev);
	iommufd_device_unbind(sobj->idev);
	sio_iopf_device_disable(sobj->dev);
	sio_device_remove(sobj->dev);
	sio_device_put(sobj->dev);
}

static int test_mock_domain(struct iommufd_ucmd *ucmd,
			    struct iommu_test_cmd *cmd)
{
	struct sio_iommufd_host *host = ucmd->ictx->host;
	struct sio_device_desc desc = { 0 };
	struct iommufd_object *obj;
	struct selftest_obj *sobj;
	uint32_t pt_id = cmd->id, idev_id;
	char name[32];
	int rc;

	obj = iommufd_object_alloc(ucmd->ictx, sizeof(*sobj),
				   IOMMUFD_OBJ_SELFTEST, &rc);
	if (!obj)
		return rc;
	sobj = sio_container_of(obj, struct selftest_obj, obj);

	if (cmd->op == IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS) {
		desc.flags = cmd->mock_domain_flags.dev_flags;
		if (desc.flags & ~(MOCK_FLAGS_DEVICE_NO_DIRTY |
				   MOCK_FLAGS_DEVICE_PASID)) {
			rc = sio_err(-EINVAL,
				     "IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS: unknown flags %#x", desc.flags);
			goto out_sobj;
		}
	}
	pthread_mutex_lock(&host->lock);
	desc.rid = host->next_mock_rid++;
	pthread_mutex_unlock(&host->lock);
	snprintf(name, sizeof(name), "iommufd_mock%u", desc.rid);
	desc.name = name;
	rc = sio_device_probe(host->mock, &desc, &sobj->dev);
	if (rc)
		goto out_sobj;
	rc = iommufd_selftest_iopf_enable(sobj->dev);
	if (rc)
		goto out_mdev;
	sobj->idev = iommufd_device_bind(ucmd->ictx, sobj->dev, &idev_id, &rc);
	if (!sobj->idev)
		goto out_mdev;
	rc = iommufd_device_attach(sobj->idev, SIO_NO_PASID, &pt_id);
	if (rc)
		goto out_unbind;

	cmd->mock_domain.out_hwpt_id = pt_id;
	cmd->mock_domain.out_stdev_id = obj->id;
	cmd->mock_domain.out_idev_id = idev_id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_detach;
	iommufd_object_finalize(ucmd->ictx, obj);
	return 0;

out_detach:
	iommufd_device_detach(sobj->idev, SIO_NO_PASID);
out_unbind:
	iommufd_device_unbind(sobj->idev);
out_mdev:
	sio_iopf_device_disable(sobj->dev);
	sio_device_remove(sobj->dev);
	sio_device_put(sobj->dev);
out_sobj:
	iommufd_object_abort(ucmd->ictx, obj);
	return rc;
}

struct selftest_obj *iommufd_get_selftest_obj(struct sio_iommufd *ictx,
					      uint32_t id, int *err)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id,
							IOMMUFD_OBJ_SELFTEST,
							err);

	return obj ? sio_container_of(obj, struct selftest_obj, obj) : NULL;
}

static int test_mock_domain_replace(struct iommufd_ucmd *ucmd,
				    struct iommu_test_cmd *cmd)
{
	uint32_t pt_id = cmd->mock_domain_replace.pt_id;
	struct selftest_obj *sobj;
	int rc;

	sobj = iommufd_get_selftest_obj(ucmd->ictx, cmd->id, &rc);
	if (!sobj)
		return rc;
	rc = iommufd_device_replace(sobj->idev, SIO_NO_PASID, &pt_id);
	if (!rc) {
		cmd->mock_domain_replace.pt_id = pt_id;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

static int test_add_reserved(struct iommufd_ucmd *ucmd, uint32_t ioas_id,
			     uint64_t start, uint64_t length)
{
	struct iommufd_ioas *ioas;
	uint64_t last;
	int rc;

	if (!length)
		return sio_err(-EINVAL, "IOMMU_TEST_OP_ADD_RESERVED: length 0");
	if (__builtin_add_overflow(start, length - 1, &last))
		return sio_err(-EOVERFLOW,
			       "IOMMU_TEST_OP_ADD_RESERVED: start + length overflows");
	ioas = iommufd_get_ioas(ucmd->ictx, ioas_id, &rc);
	if (!ioas)
		return rc;
	rc = iopt_reserve_iova(&ioas->iopt, start, last, NULL);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

static int test_md_check_map(struct iommufd_ucmd *ucmd, uint32_t id,
			     uint64_t iova, uint64_t length, uint64_t uptr)
{
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_object *obj;
	unsigned char *buf = NULL;
	uint64_t page_size, end;
	int rc;

	obj = iommufd_get_object(ucmd->ictx, id, IOMMUFD_OBJ_HWPT_PAGING, &rc);
	if (!obj)
		return rc;
	hwpt = to_hwpt(obj);
	if (!sio_mock_domain_is_mock(hwpt->domain)) {
		rc = sio_err(-EINVAL,
			     "IOMMU_TEST_OP_MD_CHECK_MAP: not a mock domain");
		goto out_put;
	}
	page_size = 1ull << __builtin_ctzll(sio_domain_pgsize_bitmap(hwpt->domain));
	if (iova % page_size || length % page_size || uptr % page_size ||
	    __builtin_add_overflow(uptr, length, &end)) {
		rc = sio_err(-EINVAL,
			     "IOMMU_TEST_OP_MD_CHECK_MAP: unaligned or overflowing range");
		goto out_put;
	}
	buf = sio_malloc(page_size);
	if (!buf) {
		rc = sio_err(-ENOMEM,
			     "IOMMU_TEST_OP_MD_CHECK_MAP: out of memory");
		goto out_put;
	}
	for (rc = 0; length; length -= page_size) {
		uint64_t host = sio_iova_to_phys(hwpt->domain, iova);

		if (sio_umem_read(ucmd->ictx->host->owner, buf, uptr,
				  page_size)) {
			rc = sio_err(-EFAULT,
				     "IOMMU_TEST_OP_MD_CHECK_MAP: uptr not readable");
			break;
		}
		if (!host || memcmp((void *)(uintptr_t)host, buf, page_size)) {
			rc = sio_err(-EINVAL,
				     "IOMMU_TEST_OP_MD_CHECK_MAP: iova %#llx does not translate to uptr's bytes", (unsigned long long)iova);
			break;
		}
		iova += page_size;
		uptr += page_size;
	}
	free(buf);
out_put:
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

static int test_md_check_refs(struct iommufd_ucmd *ucmd, uint64_t uptr,
			      uint64_t length, unsigned int refs)
{
	struct sio_iommufd_host *host = ucmd->ictx->host;
	uint64_t ps = host->page_size, end;
	unsigned char probe;

	if (length % ps || uptr % ps ||
	    __builtin_add_overflow(uptr, length, &end))
		return sio_err(-EINVAL,
			       "IOMMU_TEST_OP_MD_CHECK_REFS: unaligned or overflowing range");
	for (; length; length -= ps, uptr += ps) {
		/* The page must be there, as get_user_pages_fast wants. */
		if (sio_umem_read(host->owner, &probe, uptr, 1))
			return sio_err(-EFAULT,
				       "IOMMU_TEST_OP_MD_CHECK_REFS: uptr not readable");
		if (iopt_host_page_refs(host, uptr) != refs)
			return sio_err(-EIO,
				       "IOMMU_TEST_OP_MD_CHECK_REFS: page %#llx has another pin count", (unsigned long long)uptr);
	}
	return 0;
}

/* DEV_CHECK_CACHE: one entry of a bound mock device's device cache. */
static int test_dev_check_cache(struct iommufd_ucmd *ucmd, uint32_t idev_id,
				uint32_t cache_id, uint32_t expected)
{
	struct iommufd_object *obj;
	uint32_t value;
	int rc;

	obj = iommufd_get_object(ucmd->ictx, idev_id, IOMMUFD_OBJ_DEVICE, &rc);
	if (!obj)
		return rc;
	rc = sio_mock_dev_cache(
		sio_container_of(obj, struct iommufd_device, obj)->dev,
		cache_id, &value);
	if (!rc && value != expected)
		rc = sio_err(-EINVAL,
			     "IOMMU_TEST_OP_DEV_CHECK_CACHE: cache %u holds another value", cache_id);
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

int iommufd_test(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;

	switch (cmd->op) {
	case IOMMU_TEST_OP_ADD_RESERVED:
		return test_add_reserved(ucmd, cmd->id, cmd->add_reserved.start,
					 cmd->add_reserved.length);
	case IOMMU_TEST_OP_MOCK_DOMAIN:
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
		return test_mock_domain(ucmd, cmd);
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		return test_mock_domain_replace(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_MAP:
		return test_md_check_map(ucmd, cmd->id, cmd->check_map.iova,
					 cmd->check_map.length,
					 cmd->check_map.uptr);
	case IOMMU_TEST_OP_MD_CHECK_REFS:
		return test_md_check_refs(ucmd, cmd->check_refs.uptr,
					  cmd->check_refs.length,
					  cmd->check_refs.refs);
	case IOMMU_TEST_OP_CREATE_ACCESS:
	case IOMMU_TEST_OP_ACCESS_REPLACE_IOAS:
	case IOMMU_TEST_OP_ACCESS_PAGES:
	case IOMMU_TEST_OP_ACCESS_RW:
	case IOMMU_TEST_OP_DESTROY_ACCESS_PAGES:
		return iommufd_test_access_op(ucmd);
	case IOMMU_TEST_OP_DIRTY:
		return iommufd_test_dirty(ucmd);
	case IOMMU_TEST_OP_MD_CHECK_IOTLB:
		return iommufd_test_md_check_iotlb(ucmd);
	case IOMMU_TEST_OP_DMABUF_GET:
		return iommufd_test_dmabuf_get(ucmd, cmd->dmabuf_get.open_flags,
					       cmd->dmabuf_get.length);
	case IOMMU_TEST_OP_DMABUF_REVOKE:
		return iommufd_test_dmabuf_revoke(ucmd,
						  cmd->dmabuf_revoke.dmabuf_fd,
						  cmd->dmabuf_revoke.revoked);
	case IOMMU_TEST_OP_DEV_CHECK_CACHE:
		return test_dev_check_cache(ucmd, cmd->id, cmd->check_dev_cache.id,
					    cmd->check_dev_cache.cache);
	case IOMMU_TEST_OP_PASID_ATTACH:
	case IOMMU_TEST_OP_PASID_REPLACE:
	case IOMMU_TEST_OP_PASID_DETACH:
	case IOMMU_TEST_OP_PASID_CHECK_HWPT:
		return iommufd_test_pasid(ucmd);
	case IOMMU_TEST_OP_TRIGGER_IOPF:
		return iommufd_test_trigger_iopf(ucmd);
	case IOMMU_TEST_OP_TRIGGER_VEVENT:
		return iommufd_test_trigger_vevent(ucmd);
	case IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		/* The kernel's pfn batches need room for one entry. */
		if (cmd->memory_limit.limit < sizeof(unsigned long) + sizeof(uint32_t))
			return sio_err(-EINVAL,
				       "IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT: limit too small");
		__atomic_store_n(&ucmd->ictx->host->temp_memory_limit,
				 cmd->memory_limit.limit, __ATOMIC_RELAXED);
		return 0;
	default:
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_TEST_CMD: unknown op %u", cmd->op);
	}
}
