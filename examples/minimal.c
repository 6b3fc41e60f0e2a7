/*
 * The smallest complete use of softiommu: one mock IOMMU, one device, one
 * paging domain, a mapping, and a DMA write that lands in our buffer.
 * Build against the installed library: cc minimal.c $(pkg-config --cflags
 * --libs softiommu).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/softiommu.h>

int main(void)
{
	struct sio_device_desc desc = { .name = "nic0" };
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *dev;
	struct sio_domain *dom;
	char *buf = aligned_alloc(4096, 4096);
	int rc;

	if (!buf)
		return 1;
	memset(buf, 0, 4096);
	if ((rc = sio_system_create(&sys)) ||
	    (rc = sio_mock_iommu_create(sys, "mock0", &iommu)) ||
	    (rc = sio_device_probe(iommu, &desc, &dev)) ||
	    (rc = sio_domain_alloc_paging(dev, 0, NULL, &dom)) ||
	    (rc = sio_attach_device(dom, dev)) ||
	    (rc = sio_map(dom, 0x1000000, (uintptr_t)buf, 4096,
			  SIO_PROT_READ | SIO_PROT_WRITE)) ||
	    (rc = sio_dma_write(dev, SIO_NO_PASID, 0x1000000, "hi", 3, NULL))) {
		fprintf(stderr, "minimal: %d: %s\n", rc, sio_last_error());
		return 1;
	}
	printf("the device wrote \"%s\" into our buffer\n", buf);
	sio_detach_device(dev);
	sio_unmap(dom, 0x1000000, 4096);
	sio_domain_free(dom);
	sio_device_remove(dev);
	sio_device_put(dev);
	sio_system_destroy(sys);
	free(buf);
	return 0;
}
