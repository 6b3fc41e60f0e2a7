/*
 * VFIO containers and groups: the type1 flow of the kernel's selftests
 * (container from /dev/vfio/vfio or /dev/iommu, SET_CONTAINER, SET_IOMMU,
 * MAP_DMA, GET_DEVICE_FD, DMA by the function), the group's errnos, the
 * exclusion between groups and cdevs, and closing in every order.
 */
#include "test_vfio_model.h"

#include "softiommu/device.h"
#include "softiommu/group.h"

#define IOVA 0x100000ull

static bool group_owned(struct sio_pci_dev *pdev)
{
	struct sio_group *g = NULL;
	bool owned;

	assert_int_equal(sio_device_group(sio_pci_dev_device(pdev), &g), 0);
	owned = sio_group_dma_owned(g);
	sio_group_put(g);
	return owned;
}

static uint32_t group_flags(int gfd)
{
	struct sio_vfio_group_status st = { .argsz = sizeof(st) };

	assert_int_equal(vio(gfd, SIO_VFIO_GROUP_GET_STATUS, &st), 0);
	return st.flags;
}

static long set_container(int gfd, int cfd)
{
	int32_t fd = cfd;

	return vio(gfd, SIO_VFIO_GROUP_SET_CONTAINER, &fd);
}

static long map_dma(int cfd, void *p, size_t len, uint64_t iova)
{
	struct sio_vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = SIO_VFIO_DMA_MAP_FLAG_READ | SIO_VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)p,
		.iova = iova,
		.size = len,
	};

	return vio(cfd, SIO_VFIO_IOMMU_MAP_DMA, &m);
}

/* A descriptor number that is not open. */
static int closed_fd(void)
{
	int fd = dup(0);

	assert_true(fd >= 0);
	close(fd);
	return fd;
}

struct seen {
	unsigned int n;
	struct sio_vfio_device_entry e[4];
};

static int collect(const struct sio_vfio_device_entry *e, void *arg)
{
	struct seen *s = arg;

	s->e[s->n++] = *e;
	return 0;
}

static int stop_at_first(const struct sio_vfio_device_entry *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 7;
}

static void registry(void **state)
{
	struct vfx *f = *state;
	struct seen s = { 0 };
	int calls = 0;

	assert_int_equal(sio_vfio_for_each_device(f->vfio, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_ptr_equal(s.e[0].pdev, f->pdev[0]);
	assert_int_equal(s.e[0].cdev, 0);
	assert_int_equal(s.e[0].group, 0);
	assert_ptr_equal(s.e[1].pdev, f->pdev[1]);
	assert_int_equal(s.e[1].cdev, 1);
	/* The soft IOMMU puts each function in its own group. */
	assert_int_equal(s.e[1].group, 1);
	assert_int_equal(sio_vfio_for_each_device(f->vfio, stop_at_first,
						  &calls), 7);
	assert_int_equal(calls, 1);

	assert_int_equal(sio_vfio_add_device(f->vfio, f->pdev[0]), -EEXIST);
	assert_int_equal(sio_vfio_add_device(f->vfio, NULL), -EINVAL);
	assert_int_equal(sio_vfio_open_group(f->vfio, 2, O_RDWR), -ENOENT);
	assert_int_equal(sio_vfio_open_cdev(f->vfio, 2, O_RDWR), -ENOENT);
}

/* The selftests' VFIO_TYPE1_IOMMU mode, step by step. */
static void type1_flow(void **state)
{
	struct vfx *f = *state;
	char name[] = T_NAME0;
	int ctr, grp, dfd;

	ctr = sio_vfio_open_container(f->vfio, O_RDWR | O_CLOEXEC);
	assert_true(ctr >= 0);
	assert_int_equal(vio_n(ctr, SIO_VFIO_GET_API_VERSION, 0),
			 SIO_VFIO_API_VERSION);
	assert_int_equal(vio_n(ctr, SIO_VFIO_CHECK_EXTENSION,
			       SIO_VFIO_TYPE1_IOMMU), 1);
	/* No group yet: no compat IOAS to set the IOMMU on. */
	assert_int_equal(vio_n(ctr, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1_IOMMU),
			 -ENODEV);

	grp = sio_vfio_open_group(f->vfio, 0, O_RDWR);
	assert_true(grp >= 0);
	assert_int_equal(group_flags(grp), SIO_VFIO_GROUP_FLAGS_VIABLE);
	assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, name), -EINVAL);
	assert_int_equal(set_container(grp, ctr), 0);
	assert_int_equal(group_flags(grp), SIO_VFIO_GROUP_FLAGS_VIABLE |
					   SIO_VFIO_GROUP_FLAGS_CONTAINER_SET);
	assert_int_equal(vio_n(ctr, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1_IOMMU), 0);
	assert_int_equal(map_dma(ctr, f->buf, 2 * T_PAGE, IOVA), 0);

	dfd = (int)vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, name);
	assert_true(dfd >= 0);
	/* The device fd is close-on-exec. */
	assert_true(fcntl(dfd, F_GETFD) & FD_CLOEXEC);
	assert_true(group_owned(f->pdev[0]));

	memset(f->buf, 0xa5, 64);
	memset(f->buf + T_PAGE, 0, 64);
	bus_master(dfd, true);
	doorbell(dfd, IOVA, IOVA + T_PAGE, 0);
	assert_int_equal(f->m[0].dma_rc, 0);
	assert_int_equal(f->buf[T_PAGE + 63], 0xa5);

	/* Unmapped: the function's DMA faults. */
	{
		struct sio_vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .iova = IOVA, .size = 2 * T_PAGE,
		};

		assert_int_equal(vio(ctr, SIO_VFIO_IOMMU_UNMAP_DMA, &u), 0);
		assert_int_equal(u.size, 2 * T_PAGE);
	}
	doorbell(dfd, IOVA, IOVA + T_PAGE, 0);
	assert_true(f->m[0].dma_rc < 0);

	vclose(dfd);
	assert_false(group_owned(f->pdev[0]));
	vclose(grp);
	vclose(ctr);
}

/* The selftests' iommufd_compat_type1v2 mode: /dev/iommu is the container. */
static void dev_iommu_as_container(void **state)
{
	struct vfx *f = *state;
	char name[] = T_NAME1;
	int ifd, grp, dfd;

	ifd = sio_iommufd_open_fd(f->host, O_RDWR);
	assert_true(ifd >= 0);
	grp = sio_vfio_open_group(f->vfio, 1, O_RDWR);
	assert_true(grp >= 0);
	assert_int_equal(set_container(grp, ifd), 0);
	assert_int_equal(vio_n(ifd, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1v2_IOMMU),
			 0);
	assert_int_equal(map_dma(ifd, f->buf, 2 * T_PAGE, IOVA), 0);
	dfd = (int)vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, name);
	assert_true(dfd >= 0);
	memset(f->buf, 0x3c, 64);
	bus_master(dfd, true);
	doorbell(dfd, IOVA, IOVA + T_PAGE, 0);
	assert_int_equal(f->m[1].dma_rc, 0);
	assert_int_equal(f->buf[T_PAGE], 0x3c);

	/* The iommufd ioctls work on the same fd: the compat IOAS is an
	 * ordinary IOAS with the device's HWPT. */
	{
		struct iommu_vfio_ioas v = { .size = sizeof(v),
					     .op = IOMMU_VFIO_IOAS_GET };

		assert_int_equal(vio(ifd, IOMMU_VFIO_IOAS, &v), 0);
		assert_true(v.ioas_id > 0);
	}
	vclose(grp);
	vclose(dfd);
	vclose(ifd);
	assert_false(group_owned(f->pdev[1]));
}

static void set_container_errors(void **state)
{
	struct vfx *f = *state;
	int ctr, ctr2, grp, efd, pfd[2];

	grp = sio_vfio_open_group(f->vfio, 0, O_RDWR);
	assert_true(grp >= 0);
	ctr = sio_vfio_open_container(f->vfio, O_RDWR);
	ctr2 = sio_vfio_open_container(f->vfio, O_RDWR);
	efd = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(pipe(pfd), 0);

	assert_int_equal(vio(grp, SIO_VFIO_GROUP_SET_CONTAINER, (void *)8),
			 -EFAULT);
	assert_int_equal(set_container(grp, -1), -EBADF);
	assert_int_equal(set_container(grp, closed_fd()), -EBADF);
	assert_int_equal(set_container(grp, efd), -EBADFD);
	assert_int_equal(set_container(grp, pfd[0]), -EBADFD);
	/* Another VFIO file is no container either. */
	assert_int_equal(set_container(grp, grp), -EBADFD);
	assert_int_equal(group_flags(grp), SIO_VFIO_GROUP_FLAGS_VIABLE);

	assert_int_equal(vio_n(grp, SIO_VFIO_GROUP_UNSET_CONTAINER, 0), -EINVAL);
	assert_int_equal(set_container(grp, ctr), 0);
	assert_int_equal(set_container(grp, ctr), -EINVAL);
	assert_int_equal(set_container(grp, ctr2), -EINVAL);
	assert_int_equal(vio_n(grp, SIO_VFIO_GROUP_UNSET_CONTAINER, 0), 0);
	assert_int_equal(vio_n(grp, SIO_VFIO_GROUP_UNSET_CONTAINER, 0), -EINVAL);
	assert_int_equal(set_container(grp, ctr2), 0);

	/* Status: argsz up to flags. */
	{
		struct sio_vfio_group_status st = { .argsz = 4 };

		assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_STATUS, &st),
				 -EINVAL);
		assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_STATUS, (void *)8),
				 -EFAULT);
	}
	assert_int_equal(vio_n(grp, SIO_VFIO_DEVICE_GET_INFO, 0), -ENOTTY);
	assert_int_equal(vio_n(grp, SIO_VFIO_GET_API_VERSION, 0), -ENOTTY);

	close(efd);
	close(pfd[0]);
	close(pfd[1]);
	vclose(grp);
	vclose(ctr);
	vclose(ctr2);
}

static void get_device_fd_errors(void **state)
{
	struct vfx *f = *state;
	size_t pg = T_PAGE;
	char *two, *edge;
	int ctr, grp, dfd;

	grp = sio_vfio_open_group(f->vfio, 0, O_RDWR);
	ctr = sio_vfio_open_container(f->vfio, O_RDWR);
	assert_int_equal(set_container(grp, ctr), 0);

	assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, (void *)8),
			 -EFAULT);
	assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, "0100:00:09.0"),
			 -ENODEV);
	/* The other group's device is not in this one. */
	assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, T_NAME1),
			 -ENODEV);
	assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, "0100:00:01"),
			 -ENODEV);
	assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, T_NAME0 "x"),
			 -ENODEV);
	assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD,
			     T_NAME0 " vf_token=bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3"),
			 -EINVAL);
	assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, T_NAME0 " x"),
			 -EINVAL);

	/* A name without its NUL within a page is EINVAL ... */
	two = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(two != MAP_FAILED);
	memset(two, 'a', 2 * pg);
	assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, two), -EINVAL);
	/* ... and one that ends just before unmapped memory is read. */
	assert_int_equal(munmap(two + pg, pg), 0);
	edge = two + pg - sizeof(T_NAME0 "  ");
	memcpy(edge, T_NAME0 "  ", sizeof(T_NAME0 "  "));
	dfd = (int)vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, edge);
	assert_true(dfd >= 0);
	/* The group path opens a device more than once. */
	{
		int dfd2 = (int)vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, T_NAME0);

		assert_true(dfd2 >= 0);
		vclose(dfd);
		assert_true(group_owned(f->pdev[0]));
		vclose(dfd2);
		assert_false(group_owned(f->pdev[0]));
	}
	munmap(two, pg);
	vclose(grp);
	vclose(ctr);
}

/* One group open at a time; groups and cdevs exclude each other. */
static void exclusion(void **state)
{
	struct vfx *f = *state;
	int grp, cdev, ifd;
	struct sio_vfio_device_bind_iommufd b = { .argsz = sizeof(b) };

	grp = sio_vfio_open_group(f->vfio, 0, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	assert_true(grp >= 0);
	assert_true(fcntl(grp, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(grp, F_GETFL) & O_NONBLOCK);
	assert_int_equal(sio_vfio_open_group(f->vfio, 0, O_RDWR), -EBUSY);
	/* The other group is independent. */
	{
		int g1 = sio_vfio_open_group(f->vfio, 1, O_RDWR);

		assert_true(g1 >= 0);
		vclose(g1);
	}
	ifd = sio_iommufd_open_fd(f->host, O_RDWR);
	cdev = sio_vfio_open_cdev(f->vfio, 0, O_RDWR);
	assert_true(cdev >= 0);
	b.iommufd = ifd;
	assert_int_equal(vio(cdev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b), -EBUSY);
	vclose(grp);
	assert_int_equal(vio(cdev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	assert_int_equal(sio_vfio_open_group(f->vfio, 0, O_RDWR), -EBUSY);
	vclose(cdev);
	grp = sio_vfio_open_group(f->vfio, 0, O_RDWR);
	assert_true(grp >= 0);
	vclose(grp);
	vclose(ifd);
}

/* Closing in every order leaves nothing bound and nothing broken. */
static void close_orders(void **state)
{
	struct vfx *f = *state;
	int ctr, grp, dfd;

	/* Container first: the device keeps working (its binding holds the
	 * context), until its fd goes. */
	grp = sio_vfio_open_group(f->vfio, 0, O_RDWR);
	ctr = sio_vfio_open_container(f->vfio, O_RDWR);
	assert_int_equal(set_container(grp, ctr), 0);
	assert_int_equal(map_dma(ctr, f->buf, 2 * T_PAGE, IOVA), 0);
	dfd = (int)vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, T_NAME0);
	assert_true(dfd >= 0);
	vclose(ctr);
	bus_master(dfd, true);
	memset(f->buf, 0x77, 64);
	doorbell(dfd, IOVA, IOVA + T_PAGE, 0);
	assert_int_equal(f->m[0].dma_rc, 0);
	assert_int_equal(f->buf[T_PAGE + 1], 0x77);
	/* Group next: the device fd still works. */
	vclose(grp);
	assert_int_equal(bar_rd(dfd, 0, T_REG_ID), T_ID);
	/* The group can be opened again; its device is owned meanwhile. */
	grp = sio_vfio_open_group(f->vfio, 0, O_RDWR);
	assert_true(grp >= 0);
	assert_int_equal(group_flags(grp), 0);
	vclose(dfd);
	assert_false(group_owned(f->pdev[0]));
	assert_int_equal(group_flags(grp), SIO_VFIO_GROUP_FLAGS_VIABLE);
	vclose(grp);

	/* Device, group, container. */
	grp = sio_vfio_open_group(f->vfio, 0, O_RDWR);
	ctr = sio_vfio_open_container(f->vfio, O_RDWR);
	assert_int_equal(set_container(grp, ctr), 0);
	dfd = (int)vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, T_NAME0);
	assert_true(dfd >= 0);
	vclose(dfd);
	vclose(grp);
	vclose(ctr);

	/* Unset the container under an open device fd. */
	grp = sio_vfio_open_group(f->vfio, 0, O_RDWR);
	ctr = sio_vfio_open_container(f->vfio, O_RDWR);
	assert_int_equal(set_container(grp, ctr), 0);
	dfd = (int)vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, T_NAME0);
	assert_int_equal(vio_n(grp, SIO_VFIO_GROUP_UNSET_CONTAINER, 0), 0);
	vclose(ctr);
	assert_int_equal(bar_rd(dfd, 0, T_REG_ID), T_ID);
	vclose(grp);
	vclose(dfd);
	assert_false(group_owned(f->pdev[0]));
}

/* The subsystem goes; open files stay safe, the group finds nothing. */
static void destroy_while_open(void **state)
{
	struct vfx *f = *state;
	int ctr, grp, dfd;

	grp = sio_vfio_open_group(f->vfio, 0, O_RDWR);
	ctr = sio_vfio_open_container(f->vfio, O_RDWR);
	assert_int_equal(set_container(grp, ctr), 0);
	dfd = (int)vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, T_NAME0);
	assert_true(dfd >= 0);
	sio_vfio_destroy(f->vfio);
	f->vfio = NULL;
	assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_DEVICE_FD, T_NAME0),
			 -ENODEV);
	{
		struct sio_vfio_group_status st = { .argsz = sizeof(st) };

		assert_int_equal(vio(grp, SIO_VFIO_GROUP_GET_STATUS, &st),
				 -ENODEV);
	}
	assert_int_equal(bar_rd(dfd, 0, T_REG_ID), T_ID);
	vclose(grp);
	vclose(dfd);
	vclose(ctr);
	assert_false(group_owned(f->pdev[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(registry, vfx_setup, vfx_teardown),
		cmocka_unit_test_setup_teardown(type1_flow, vfx_setup, vfx_teardown),
		cmocka_unit_test_setup_teardown(dev_iommu_as_container, vfx_setup,
						vfx_teardown),
		cmocka_unit_test_setup_teardown(set_container_errors, vfx_setup,
						vfx_teardown),
		cmocka_unit_test_setup_teardown(get_device_fd_errors, vfx_setup,
						vfx_teardown),
		cmocka_unit_test_setup_teardown(exclusion, vfx_setup, vfx_teardown),
		cmocka_unit_test_setup_teardown(close_orders, vfx_setup,
						vfx_teardown),
		cmocka_unit_test_setup_teardown(destroy_while_open, vfx_setup,
						vfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
