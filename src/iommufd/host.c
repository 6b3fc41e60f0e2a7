/*
 * The iommufd host: what every context of one emulated /dev/iommu shares
 * (the kernel has one per boot; a library may have several).  A system to
 * bind devices from, the calling process as the owner of user memory, the
 * live iopt_pages, and, only with the selftest option
 * (SIO_IOMMUFD_HOST_SELFTEST, a kernel with CONFIG_IOMMUFD_TEST), the mock
 * IOMMU where IOMMU_TEST_OP_MOCK_DOMAIN probes its devices.
 */
#include <stdlib.h>

#include "iommufd/iommufd_private.h"
#include "softiommu/iommu.h"
#include "softiommu/mock.h"

/* ------------------------------------------------------------------ */
/* Host                                                                 */
/* ------------------------------------------------------------------ */

SIO_API int sio_iommufd_host_create(struct sio_iommufd_host **out)
{
	const struct sio_iommufd_host_opts opts = {
		.flags = SIO_IOMMUFD_HOST_SELFTEST,
	};

	return sio_iommufd_host_create_opts(&opts, out);
}

SIO_API int sio_iommufd_host_create_opts(
	const struct sio_iommufd_host_opts *opts,
	struct sio_iommufd_host **out)
{
	struct sio_iommufd_host *host;
	int rc;

	sio_err_clear();
	if (!out)
		return sio_err(-EINVAL, "iommufd: host_create: NULL out");
	if (opts && (opts->flags & ~SIO_IOMMUFD_HOST_SELFTEST))
		return sio_err(-EINVAL, "iommufd: host_create: unknown flags %#x",
			       opts->flags);
	host = sio_calloc(1, sizeof(*host));
	if (!host)
		return sio_err(-ENOMEM, "iommufd: host");
	pthread_mutex_init(&host->lock, NULL);
	CDS_INIT_LIST_HEAD(&host->pages_list);
	host->temp_memory_limit = 65536;
	host->next_mock_rid = 1;
	rc = sio_system_create(&host->sys);
	if (rc)
		goto err_free;
	/* The selftest's mock IOMMU exists only with the test ABI. */
	if (opts && (opts->flags & SIO_IOMMUFD_HOST_SELFTEST)) {
		rc = sio_mock_iommu_create(host->sys, "iommufd-mock",
					   &host->mock);
		if (rc)
			goto err_sys;
	}
	rc = sio_umem_owner_self(&host->owner);
	if (rc)
		goto err_iommu;
	host->page_size = sio_umem_page_size(host->owner);
	*out = host;
	return 0;

err_iommu:
	if (host->mock)
		sio_iommu_unregister(host->mock);
err_sys:
	sio_system_destroy(host->sys);
err_free:
	pthread_mutex_destroy(&host->lock);
	free(host);
	return rc;
}

SIO_API struct sio_system *sio_iommufd_host_system(
	struct sio_iommufd_host *host)
{
	return host->sys;
}

SIO_API void sio_iommufd_host_destroy(struct sio_iommufd_host *host)
{
	if (!host)
		return;
	if (!cds_list_empty(&host->pages_list))
		sio_err(-EBUSY, "iommufd: host destroyed with pinned pages");
	sio_umem_owner_put(host->owner);
	if (host->mock)
		sio_iommu_unregister(host->mock);
	sio_system_destroy(host->sys);
	pthread_mutex_destroy(&host->lock);
	free(host);
}

struct sio_umem_owner *iommufd_host_owner(struct sio_iommufd_host *host)
{
	return host->owner;
}

void iommufd_host_set_owner(struct sio_iommufd_host *host,
			    struct sio_umem_owner *owner)
{
	struct sio_umem_owner *old = host->owner;

	host->owner = owner;
	sio_umem_owner_put(old);
}
