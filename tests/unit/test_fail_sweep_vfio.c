/*
 * The VFIO layer under every fault-injection point (fail_sweep.h): the
 * cdev flow of a userspace driver, from opening the cdev to a DMA through
 * the IOMMU, swept site by site.  Each iteration either fails with an
 * errno or completes; closing the descriptors must then leave the
 * subsystem as it was (the next iteration opens, binds and attaches
 * afresh; no leak under ASan).
 */
#include "test_vfio_model.h"
#include "fail_sweep.h"

#define IOVA 0x100000ull

struct flow {
	struct vfx *f;
	int cdev, ifd;
};

static int flow_body(void *arg)
{
	struct flow *fl = arg;
	struct sio_vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)fl->f->buf, .length = 2 * T_PAGE,
		.iova = IOVA,
	};
	uint8_t out[32];
	uint32_t pt;
	long rc;

	fl->cdev = sio_vfio_open_cdev(fl->f->vfio, 0, O_RDWR);
	if (fl->cdev < 0)
		return fl->cdev;
	fl->ifd = sio_iommufd_open_fd(fl->f->host, O_RDWR);
	if (fl->ifd < 0)
		return fl->ifd;
	b.iommufd = fl->ifd;
	rc = vio(fl->cdev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b);
	if (!rc)
		rc = vio(fl->ifd, IOMMU_IOAS_ALLOC, &a);
	if (!rc) {
		m.ioas_id = a.out_ioas_id;
		rc = vio(fl->ifd, IOMMU_IOAS_MAP, &m);
	}
	pt = a.out_ioas_id;
	if (!rc)
		rc = attach_pt(fl->cdev, &pt);
	if (rc)
		return (int)rc;
	/* The program's DMA through the IOMMU. */
	memset(out, 0x3c, sizeof(out));
	rc = vpwrite(fl->cdev, &(uint16_t){ PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER },
		     2, T_CFG + PCI_COMMAND);
	if (rc < 0)
		return (int)rc;
	rc = sio_pci_dma_write(fl->f->pdev[0], SIO_NO_PASID, IOVA + 64, out,
			       sizeof(out), NULL);
	if (rc)
		return (int)rc;
	if (memcmp(fl->f->buf + 64, out, sizeof(out)))
		return -EIO;
	return 0;
}

static void flow_undo(void *arg)
{
	struct flow *fl = arg;

	if (fl->cdev >= 0)
		assert_int_equal(sio_file_close(fl->cdev), 0);
	if (fl->ifd >= 0)
		assert_int_equal(sio_file_close(fl->ifd), 0);
	fl->cdev = fl->ifd = -1;
	memset(fl->f->buf, 0, 2 * T_PAGE);
}

static void vfio_cdev_flow(void **state)
{
	struct flow fl = { .f = *state, .cdev = -1, .ifd = -1 };
	/* The path has sites in VFIO, iommufd, the core and the tables. */
	fail_sweep_check("vfio", flow_body, flow_undo, &fl, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(vfio_cdev_flow, vfx_setup,
						vfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
