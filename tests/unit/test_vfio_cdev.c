/*
 * VFIO device cdevs: BIND_IOMMUFD, ATTACH/DETACH_IOMMUFD_PT and their
 * errnos, the selftest vfio_iommufd_setup_test's cases, the bound device as
 * an ordinary iommufd device, DMA end to end, and closing in every order.
 */
#include "test_vfio_model.h"

#include "softiommu/device.h"
#include "softiommu/group.h"

#define IOVA 0x200000ull

struct cfx {
	struct vfx *f;
	int cdev, ifd;
};

static int cfx_setup(void **state)
{
	struct cfx *c = calloc(1, sizeof(*c));
	void *vs;

	vfx_setup(&vs);
	c->f = vs;
	c->cdev = sio_vfio_open_cdev(c->f->vfio, 0, O_RDWR);
	assert_true(c->cdev >= 0);
	c->ifd = sio_iommufd_open_fd(c->f->host, O_RDWR);
	assert_true(c->ifd >= 0);
	*state = c;
	return 0;
}

static int cfx_teardown(void **state)
{
	struct cfx *c = *state;
	void *vs = c->f;

	if (c->cdev >= 0)
		sio_file_close(c->cdev);
	if (c->ifd >= 0)
		sio_file_close(c->ifd);
	vfx_teardown(&vs);
	free(c);
	return 0;
}

static bool group_owned(struct sio_pci_dev *pdev)
{
	struct sio_group *g = NULL;
	bool owned;

	assert_int_equal(sio_device_group(sio_pci_dev_device(pdev), &g), 0);
	owned = sio_group_dma_owned(g);
	sio_group_put(g);
	return owned;
}

static long bind_raw(int cfd, struct sio_vfio_device_bind_iommufd *b)
{
	return vio(cfd, SIO_VFIO_DEVICE_BIND_IOMMUFD, b);
}

static long hw_info(int ifd, uint32_t dev_id)
{
	uint8_t data[64];
	struct iommu_hw_info h = {
		.size = sizeof(h), .dev_id = dev_id,
		.data_len = sizeof(data), .data_uptr = (uintptr_t)data,
	};

	return vio(ifd, IOMMU_GET_HW_INFO, &h);
}

/* vfio_iommufd_setup_test: bind, get_info_without_bind_fails,
 * bind_bad_iommufd_fails, repeated_bind_fails, attach_detatch_pt,
 * attach_invalid_pt_fails. */
static void selftest_cases(void **state)
{
	struct cfx *c = *state;
	struct sio_vfio_device_info info = { .argsz = sizeof(info) };
	struct sio_vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };
	uint32_t ioas, pt;

	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_GET_INFO, &info), -EINVAL);
	{
		struct sio_vfio_device_bind_iommufd b = {
			.argsz = sizeof(b), .iommufd = -2,
		};

		assert_int_equal(bind_raw(c->cdev, &b), -EINVAL);
	}
	cdev_bind(c->cdev, c->ifd);
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_GET_INFO, &info), 0);
	{
		struct sio_vfio_device_bind_iommufd b = {
			.argsz = sizeof(b), .iommufd = c->ifd,
		};

		assert_int_equal(bind_raw(c->cdev, &b), -EINVAL);
	}
	ioas = ioas_alloc(c->ifd);
	pt = ioas;
	assert_int_equal(attach_pt(c->cdev, &pt), 0);
	assert_int_not_equal(pt, ioas);	/* the HWPT made for the IOAS */
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d), 0);
	pt = UINT32_MAX;
	assert_int_equal(attach_pt(c->cdev, &pt), -ENOENT);
}

static void before_bind(void **state)
{
	struct cfx *c = *state;
	struct sio_vfio_region_info ri = { .argsz = sizeof(ri) };
	struct sio_vfio_irq_info ii = { .argsz = sizeof(ii) };
	struct sio_vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a) };
	uint64_t v;
	void *addr = NULL;
	struct sio_file *file;

	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_GET_REGION_INFO, &ri),
			 -EINVAL);
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_GET_IRQ_INFO, &ii),
			 -EINVAL);
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
			 -EINVAL);
	assert_int_equal(vio_n(c->cdev, SIO_VFIO_DEVICE_RESET, 0), -EINVAL);
	/* Unknown commands too: access is checked first. */
	assert_int_equal(vio_n(c->cdev, 0x1234, 0), -EINVAL);
	assert_int_equal(vpread(c->cdev, &v, 8, T_CFG), -EINVAL);
	assert_int_equal(vpwrite(c->cdev, &v, 8, T_CFG), -EINVAL);
	file = sio_file_lookup(c->cdev);
	assert_int_equal(sio_file_read(file, &v, 8), -EINVAL);
	assert_int_equal(sio_file_mmap(file, &addr, T_PAGE,
				       PROT_READ | PROT_WRITE, MAP_SHARED, 0),
			 -EINVAL);
	sio_file_put(file);
	/* Nothing happened to the function. */
	assert_false(group_owned(c->f->pdev[0]));
}

static void bind_errors(void **state)
{
	struct cfx *c = *state;
	struct {
		struct sio_vfio_device_bind_iommufd b;
		uint64_t tail;
	} big = { { .argsz = sizeof(big), .iommufd = c->ifd }, 1 };
	struct sio_vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	uint8_t uuid[16] = { 1 };
	int efd = eventfd(0, EFD_CLOEXEC), dead;

	/* argsz up to out_devid; a larger structure must be zero past ours. */
	b.iommufd = c->ifd;
	b.argsz = offsetof(struct sio_vfio_device_bind_iommufd, out_devid);
	assert_int_equal(bind_raw(c->cdev, &b), -EINVAL);
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_BIND_IOMMUFD, (void *)8),
			 -EFAULT);
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &big), -E2BIG);
	b.argsz = sizeof(b);
	b.flags = 2;
	assert_int_equal(bind_raw(c->cdev, &b), -EINVAL);
	/* A VF token for a function that is neither PF nor VF. */
	b.flags = SIO_VFIO_DEVICE_BIND_FLAG_TOKEN;
	b.token_uuid_ptr = 8;
	assert_int_equal(bind_raw(c->cdev, &b), -EFAULT);
	b.token_uuid_ptr = (uintptr_t)uuid;
	assert_int_equal(bind_raw(c->cdev, &b), -EINVAL);
	b.flags = 0;
	b.iommufd = -1;
	assert_int_equal(bind_raw(c->cdev, &b), -EINVAL);
	dead = dup(0);
	close(dead);
	b.iommufd = dead;
	assert_int_equal(bind_raw(c->cdev, &b), -EBADF);
	b.iommufd = efd;
	assert_int_equal(bind_raw(c->cdev, &b), -EBADFD);
	b.iommufd = c->cdev;
	assert_int_equal(bind_raw(c->cdev, &b), -EBADFD);
	assert_false(group_owned(c->f->pdev[0]));

	/* After all of that the bind works, with the tail zero. */
	big.tail = 0;
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &big), 0);
	assert_true(big.b.out_devid > 0);
	assert_true(group_owned(c->f->pdev[0]));
	close(efd);
}

/* A second cdev fd of a bound device cannot bind: the device is open. */
static void second_cdev(void **state)
{
	struct cfx *c = *state;
	int c2 = sio_vfio_open_cdev(c->f->vfio, 0, O_RDWR | O_CLOEXEC);
	struct sio_vfio_device_bind_iommufd b = {
		.argsz = sizeof(b), .iommufd = c->ifd,
	};

	assert_true(c2 >= 0);
	assert_true(fcntl(c2, F_GETFD) & FD_CLOEXEC);
	cdev_bind(c->cdev, c->ifd);
	assert_int_equal(bind_raw(c2, &b), -EINVAL);
	vclose(c->cdev);
	c->cdev = -1;
	/* Free again: the other fd binds. */
	cdev_bind(c2, c->ifd);
	vclose(c2);
	assert_false(group_owned(c->f->pdev[0]));
}

static void attach_errors(void **state)
{
	struct cfx *c = *state;
	struct sio_vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a) };
	struct sio_vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };
	uint32_t ioas, ioas2, pt, hwpt;

	cdev_bind(c->cdev, c->ifd);
	ioas = ioas_alloc(c->ifd);
	ioas2 = ioas_alloc(c->ifd);

	a.pt_id = ioas;
	a.argsz = offsetof(struct sio_vfio_device_attach_iommufd_pt, pt_id);
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
			 -EINVAL);
	a.argsz = sizeof(a);
	a.flags = 2;
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
			 -EINVAL);
	/* With ATTACH_PASID, argsz must reach pasid. */
	a.flags = SIO_VFIO_DEVICE_ATTACH_PASID;
	a.argsz = offsetof(struct sio_vfio_device_attach_iommufd_pt, pasid);
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
			 -EINVAL);
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT,
			     (void *)8), -EFAULT);
	/* A device ID is no page table. */
	pt = 1;
	assert_int_equal(attach_pt(c->cdev, &pt), -EINVAL);

	pt = ioas;
	assert_int_equal(attach_pt(c->cdev, &pt), 0);
	hwpt = pt;
	/* Attaching again replaces. */
	pt = ioas2;
	assert_int_equal(attach_pt(c->cdev, &pt), 0);
	assert_int_not_equal(pt, hwpt);
	/* The first IOAS's automatic HWPT went with its last attachment. */
	pt = hwpt;
	assert_int_equal(attach_pt(c->cdev, &pt), -ENOENT);
	pt = ioas;
	assert_int_equal(attach_pt(c->cdev, &pt), 0);

	d.argsz = 4;
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d),
			 -EINVAL);
	d.argsz = sizeof(d);
	d.flags = 4;
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d),
			 -EINVAL);
	d.flags = SIO_VFIO_DEVICE_DETACH_PASID;
	d.argsz = offsetof(struct sio_vfio_device_detach_iommufd_pt, pasid);
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d),
			 -EINVAL);
	d.flags = 0;
	d.argsz = sizeof(d);
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d), 0);
	/* Detaching what is not attached is fine. */
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d), 0);
	d.flags = SIO_VFIO_DEVICE_DETACH_PASID;
	d.pasid = 5;
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d), 0);
}

/* The end-to-end path: bind, map a buffer, attach, the function's DMA
 * lands in the buffer; detach blocks it. */
static void dma_end_to_end(void **state)
{
	struct cfx *c = *state;
	struct sio_vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };
	struct sio_dma_fault fault;
	uint8_t out[32], in[32];
	uint32_t ioas, pt;

	memset(out, 0xc3, sizeof(out));
	/* Before VFIO the function's RID is on the identity default domain;
	 * bound to iommufd it is blocked until attached. */
	cdev_bind(c->cdev, c->ifd);
	bus_master(c->cdev, true);
	assert_true(sio_pci_dma_write(c->f->pdev[0], SIO_NO_PASID, IOVA, out,
				      sizeof(out), &fault) < 0);

	ioas = ioas_alloc(c->ifd);
	ioas_map(c->ifd, ioas, c->f->buf, 2 * T_PAGE, IOVA);
	pt = ioas;
	assert_int_equal(attach_pt(c->cdev, &pt), 0);
	assert_int_equal(sio_pci_dma_write(c->f->pdev[0], SIO_NO_PASID,
					   IOVA + 100, out, sizeof(out), NULL), 0);
	assert_memory_equal(c->f->buf + 100, out, sizeof(out));
	/* And through the model's registers. */
	memset(c->f->buf, 0x5e, 64);
	doorbell(c->cdev, IOVA, IOVA + T_PAGE, 0);
	assert_int_equal(c->f->m[0].dma_rc, 0);
	assert_int_equal(c->f->buf[T_PAGE + 10], 0x5e);
	assert_int_equal(sio_pci_dma_read(c->f->pdev[0], SIO_NO_PASID,
					  IOVA + 100, in, sizeof(in), NULL), 0);
	assert_memory_equal(in, out, sizeof(in));

	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d), 0);
	assert_true(sio_pci_dma_write(c->f->pdev[0], SIO_NO_PASID, IOVA, out,
				      sizeof(out), NULL) < 0);
}

/* The device ID is an ordinary iommufd device: HW info, HWPT_ALLOC. */
static void iommufd_device(void **state)
{
	struct cfx *c = *state;
	uint32_t devid, ioas, pt;
	struct iommu_hwpt_alloc h = { .size = sizeof(h) };

	devid = cdev_bind(c->cdev, c->ifd);
	assert_int_equal(hw_info(c->ifd, devid), 0);
	ioas = ioas_alloc(c->ifd);
	h.dev_id = devid;
	h.pt_id = ioas;
	assert_int_equal(vio(c->ifd, IOMMU_HWPT_ALLOC, &h), 0);
	pt = h.out_hwpt_id;
	assert_int_equal(attach_pt(c->cdev, &pt), 0);
	assert_int_equal(pt, h.out_hwpt_id);
	/* In use: the HWPT cannot be destroyed. */
	{
		struct iommu_destroy x = { .size = sizeof(x), .id = pt };

		assert_int_equal(vio(c->ifd, IOMMU_DESTROY, &x), -EBUSY);
	}
	/* Closing the cdev unbinds: the ID is gone. */
	vclose(c->cdev);
	c->cdev = -1;
	assert_int_equal(hw_info(c->ifd, devid), -ENOENT);
	assert_false(group_owned(c->f->pdev[0]));
}

/* Dirty tracking on the VFIO device's HWPT sees the function's writes. */
static void dirty_tracking(void **state)
{
	struct cfx *c = *state;
	struct iommu_hwpt_alloc h = { .size = sizeof(h),
				      .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING };
	struct iommu_hwpt_set_dirty_tracking t = { .size = sizeof(t) };
	uint64_t bitmap = 0;
	struct iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g), .iova = IOVA, .length = 4 * T_PAGE,
		.page_size = T_PAGE, .data = (uintptr_t)&bitmap,
	};
	uint8_t out[8] = { 1 };
	uint32_t devid, ioas, pt;

	devid = cdev_bind(c->cdev, c->ifd);
	ioas = ioas_alloc(c->ifd);
	ioas_map(c->ifd, ioas, c->f->buf, 4 * T_PAGE, IOVA);
	h.dev_id = devid;
	h.pt_id = ioas;
	assert_int_equal(vio(c->ifd, IOMMU_HWPT_ALLOC, &h), 0);
	pt = h.out_hwpt_id;
	assert_int_equal(attach_pt(c->cdev, &pt), 0);
	t.hwpt_id = pt;
	t.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	assert_int_equal(vio(c->ifd, IOMMU_HWPT_SET_DIRTY_TRACKING, &t), 0);
	bus_master(c->cdev, true);
	assert_int_equal(sio_pci_dma_write(c->f->pdev[0], SIO_NO_PASID,
					   IOVA + 2 * T_PAGE + 4, out,
					   sizeof(out), NULL), 0);
	g.hwpt_id = pt;
	assert_int_equal(vio(c->ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &g), 0);
	assert_int_equal(bitmap, 1u << 2);
}

/* PASID attachments: the RID is untouched; a PASID HWPT is required. */
static void pasid_attach(void **state)
{
	struct cfx *c = *state;
	struct sio_vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a), .flags = SIO_VFIO_DEVICE_ATTACH_PASID,
		.pasid = 3,
	};
	struct sio_vfio_device_detach_iommufd_pt d = {
		.argsz = sizeof(d), .flags = SIO_VFIO_DEVICE_DETACH_PASID,
		.pasid = 3,
	};
	struct iommu_hwpt_alloc h = { .size = sizeof(h),
				      .flags = IOMMU_HWPT_ALLOC_PASID };
	uint8_t out[16] = { 9, 8, 7 };
	uint32_t devid, ioas;

	devid = cdev_bind(c->cdev, c->ifd);
	ioas = ioas_alloc(c->ifd);
	ioas_map(c->ifd, ioas, c->f->buf, T_PAGE, IOVA);
	h.dev_id = devid;
	h.pt_id = ioas;
	assert_int_equal(vio(c->ifd, IOMMU_HWPT_ALLOC, &h), 0);
	a.pt_id = h.out_hwpt_id;
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), 0);
	bus_master(c->cdev, true);
	assert_int_equal(sio_pci_dma_write(c->f->pdev[0], 3, IOVA + 8, out,
					   sizeof(out), NULL), 0);
	assert_memory_equal(c->f->buf + 8, out, sizeof(out));
	/* The RID is not attached. */
	assert_true(sio_pci_dma_write(c->f->pdev[0], SIO_NO_PASID, IOVA, out,
				      sizeof(out), NULL) < 0);
	/* Again: replaces (with the same HWPT). */
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), 0);
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d), 0);
	assert_true(sio_pci_dma_write(c->f->pdev[0], 3, IOVA, out, sizeof(out),
				      NULL) < 0);
	/* Attached PASIDs go with the cdev too. */
	assert_int_equal(vio(c->cdev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a), 0);
}

static void close_orders(void **state)
{
	struct cfx *c = *state;
	uint8_t out[8] = { 1, 2, 3, 4 };
	uint32_t ioas, pt;

	/* iommufd first: the binding holds the context; DMA still works. */
	cdev_bind(c->cdev, c->ifd);
	ioas = ioas_alloc(c->ifd);
	ioas_map(c->ifd, ioas, c->f->buf, T_PAGE, IOVA);
	pt = ioas;
	assert_int_equal(attach_pt(c->cdev, &pt), 0);
	vclose(c->ifd);
	c->ifd = -1;
	bus_master(c->cdev, true);
	assert_int_equal(sio_pci_dma_write(c->f->pdev[0], SIO_NO_PASID, IOVA,
					   out, sizeof(out), NULL), 0);
	assert_memory_equal(c->f->buf, out, sizeof(out));
	vclose(c->cdev);
	c->cdev = -1;
	assert_false(group_owned(c->f->pdev[0]));

	/* A cdev never bound closes cleanly; one closed while another
	 * thread's lookup holds it is released after. */
	{
		int c2 = sio_vfio_open_cdev(c->f->vfio, 1, O_RDWR);
		struct sio_file *file = sio_file_lookup(c2);
		int ifd = sio_iommufd_open_fd(c->f->host, O_RDWR);

		cdev_bind(c2, ifd);
		vclose(c2);
		assert_true(group_owned(c->f->pdev[1]));
		sio_file_put(file);
		assert_false(group_owned(c->f->pdev[1]));
		vclose(ifd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(selftest_cases, cfx_setup,
						cfx_teardown),
		cmocka_unit_test_setup_teardown(before_bind, cfx_setup,
						cfx_teardown),
		cmocka_unit_test_setup_teardown(bind_errors, cfx_setup,
						cfx_teardown),
		cmocka_unit_test_setup_teardown(second_cdev, cfx_setup,
						cfx_teardown),
		cmocka_unit_test_setup_teardown(attach_errors, cfx_setup,
						cfx_teardown),
		cmocka_unit_test_setup_teardown(dma_end_to_end, cfx_setup,
						cfx_teardown),
		cmocka_unit_test_setup_teardown(iommufd_device, cfx_setup,
						cfx_teardown),
		cmocka_unit_test_setup_teardown(dirty_tracking, cfx_setup,
						cfx_teardown),
		cmocka_unit_test_setup_teardown(pasid_attach, cfx_setup,
						cfx_teardown),
		cmocka_unit_test_setup_teardown(close_orders, cfx_setup,
						cfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
