/*
 * The emulated machine (softiommu/machine.h): what it creates from a
 * device list, the BARs it places, the namespace it builds, shares and
 * removes, and its opens: the VFIO and iommufd nodes, the config space and
 * the debugfs dump of the live domain.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "softiommu/device.h"
#include "softiommu/domain.h"
#include "softiommu/file.h"
#include "softiommu/group.h"
#include "softiommu/iommu.h"
#include "softiommu/machine.h"
#include "softiommu/pci.h"

struct env {
	char host[PATH_MAX];	/* a fake host without devices */
	struct sio_machine *m;
};

static struct sio_machine *machine(struct env *e, const char *devices)
{
	struct sio_machine_config cfg = { .devices = devices, .host_root = e->host };
	struct sio_machine *m = NULL;

	if (sio_machine_create(&cfg, &m))
		fail_msg("%s: %s", devices ? devices : "(default)", sio_last_error());
	return m;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	snprintf(e->host, sizeof(e->host), "/tmp/sio-host-XXXXXX");
	assert_non_null(mkdtemp(e->host));
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[PATH_MAX + 16];

	sio_machine_destroy(e->m);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->host);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

struct seen {
	unsigned int n;
	struct sio_machine_device_info info[4];
};

static int collect(const struct sio_machine_device_info *info, void *arg)
{
	struct seen *s = arg;

	s->info[s->n++] = *info;
	return s->n == 3 ? 7 : 0;
}

static void test_devices(void **state)
{
	struct env *e = *state;
	struct seen s = { 0 };
	char bdf[16];

	e->m = machine(e, NULL);
	assert_int_equal(sio_machine_device_count(e->m), 1);
	assert_string_equal(sio_iommu_name(sio_machine_iommu(e->m)), "dmar0");
	assert_non_null(sio_machine_host(e->m));
	assert_non_null(sio_machine_vfio(e->m));
	assert_int_equal(sio_machine_for_each_device(e->m, collect, &s), 0);
	assert_string_equal(sio_pci_bdf_format(s.info[0].bdf, bdf, sizeof(bdf)),
			    "0100:00:01.0");
	assert_string_equal(s.info[0].model, "ioat");
	assert_int_equal(s.info[0].vendor, 0x8086);
	assert_int_equal(s.info[0].device, 0x2021);
	assert_non_null(s.info[0].pdev);
	sio_machine_destroy(e->m);

	/* Several: each its own group and cdev; fn's return stops. */
	e->m = machine(e, "ioat;ioat,bdf=0100:00:09.0;ioat;ioat");
	s.n = 0;
	assert_int_equal(sio_machine_for_each_device(e->m, collect, &s), 7);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.info[1].bdf, SIO_PCI_BDF(0x100, 0, 9, 0));
	assert_int_equal(s.info[2].bdf, SIO_PCI_BDF(0x100, 0, 2, 0));
	assert_int_not_equal(s.info[0].group, s.info[1].group);
	assert_int_not_equal(s.info[1].cdev, s.info[2].cdev);
	sio_machine_destroy(e->m);

	e->m = machine(e, "none");
	assert_int_equal(sio_machine_device_count(e->m), 0);
}

/* The IOMMU takes the first dmar<N> name the host lacks. */
static void test_iommu_name(void **state)
{
	struct env *e = *state;
	char cmd[2 * PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/sys/class/iommu/dmar0 %s/sys/class/iommu/dmar1",
		 e->host, e->host);
	assert_int_equal(system(cmd), 0);
	e->m = machine(e, NULL);
	assert_string_equal(sio_iommu_name(sio_machine_iommu(e->m)), "dmar2");
}

static struct sio_pci_dev *first_pdev(struct sio_machine *m)
{
	struct seen s = { 0 };

	sio_machine_for_each_device(m, collect, &s);
	return s.info[0].pdev;
}

/* Firmware's BAR placement, as config space and the resource file. */
static void test_bars(void **state)
{
	struct env *e = *state;
	struct sio_pci_dev *pdev;
	uint32_t lo = 0, hi = 0;

	e->m = machine(e, NULL);
	pdev = first_pdev(e->m);
	assert_int_equal(sio_pci_config_read(pdev, 0x10, 4, &lo), 0);
	assert_int_equal(sio_pci_config_read(pdev, 0x14, 4, &hi), 0);
	assert_int_equal(lo & ~0xfu, 0);
	assert_int_equal(lo & 0x6, 0x4);	/* 64-bit memory BAR */
	assert_int_equal(hi, 0x3800);
}

static char *slurp_fd(int fd, size_t *len)
{
	static char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	assert_true(n >= 0);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* The node of the tree's file at path (a namespace path). */
static struct sio_machine_node node_of(struct sio_machine *m, const char *path)
{
	struct sio_machine_path p;
	struct sio_machine_node node;
	struct stat st;

	assert_int_equal(sio_machine_resolve(m, path, &p),
			 SIO_MACHINE_PATH_REDIRECT);
	assert_int_equal(stat(p.path, &st), 0);
	if (sio_machine_lookup_node(m, &st, &node) != 1)
		fail_msg("%s is not a node", path);
	return node;
}

static void test_namespace(void **state)
{
	struct env *e = *state;
	struct sio_machine *other;
	struct sio_machine_path p;
	char dir[PATH_MAX], stamp[PATH_MAX + 32];
	struct stat st;
	const char *ns;

	e->m = machine(e, NULL);
	assert_null(sio_machine_namespace_dir(e->m));
	/* Without a namespace nothing is emulated. */
	assert_int_equal(sio_machine_resolve(e->m, "/dev/iommu", &p),
			 SIO_MACHINE_PATH_NONE);
	assert_int_equal(sio_machine_namespace_private(e->m), 0);
	ns = sio_machine_namespace_dir(e->m);
	assert_non_null(ns);
	snprintf(dir, sizeof(dir), "%s", ns);
	assert_int_equal(sio_machine_namespace_private(e->m), -EBUSY);

	/* Another process of the run with the same list attaches... */
	other = machine(e, NULL);
	assert_int_equal(sio_machine_namespace_attach(other, dir), 0);
	assert_string_equal(sio_machine_namespace_dir(other), dir);
	assert_int_equal(sio_machine_resolve(other, "/sys/bus/pci/devices/0100:00:01.0",
					     &p), SIO_MACHINE_PATH_REDIRECT);
	/* ...and does not remove the tree it did not make. */
	sio_machine_destroy(other);
	assert_int_equal(stat(dir, &st), 0);
	/* Another machine cannot use it. */
	other = machine(e, "ioat;ioat");
	assert_int_equal(sio_machine_namespace_attach(other, dir), -ESTALE);
	assert_int_equal(sio_machine_namespace_attach(other, "/nonexistent-sio"),
			 -ENOENT);
	sio_machine_destroy(other);

	/* Removal is only ever of a tree. */
	assert_int_equal(sio_machine_namespace_remove(e->host), -ENOENT);
	assert_int_equal(stat(e->host, &st), 0);
	assert_int_equal(sio_machine_namespace_remove("relative"), -EINVAL);

	/* The private tree goes with the machine that made it. */
	snprintf(stamp, sizeof(stamp), "%s/.softiommu-machine", dir);
	assert_int_equal(stat(stamp, &st), 0);
	sio_machine_destroy(e->m);
	e->m = NULL;
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_build_shared(void **state)
{
	struct env *e = *state;
	char dir[] = "/tmp/sio-run-XXXXXX";
	struct sio_machine *other;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	e->m = machine(e, "ioat;ioat");
	assert_int_equal(sio_machine_namespace_build(e->m, dir), 0);
	assert_int_equal(sio_machine_namespace_build(e->m, dir), -EBUSY);
	other = machine(e, "ioat;ioat");
	assert_int_equal(sio_machine_namespace_attach(other, dir), 0);
	sio_machine_destroy(other);
	/* A built tree is the builder's caller's to remove. */
	sio_machine_destroy(e->m);
	e->m = NULL;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(sio_machine_namespace_remove(dir), 0);
	assert_int_equal(stat(dir, &st), -1);
}

static void test_open_nodes(void **state)
{
	struct env *e = *state;
	struct sio_machine_node n;
	struct seen s = { 0 };
	size_t len;
	char *text;
	int fd;

	e->m = machine(e, NULL);
	assert_int_equal(sio_machine_namespace_private(e->m), 0);
	sio_machine_for_each_device(e->m, collect, &s);

	n = node_of(e->m, "/dev/iommu");
	assert_true(n.device);
	assert_int_equal(n.rdev, makedev(10, 257));
	fd = sio_machine_open(e->m, &n, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(sio_machine_open(e->m, &n, O_RDWR | O_DIRECTORY), -ENOTDIR);

	n = node_of(e->m, "/dev/vfio/vfio");
	assert_int_equal(n.rdev, makedev(10, 196));
	fd = sio_machine_open(e->m, &n, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(sio_file_close(fd), 0);

	{
		char path[64];

		snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%u", s.info[0].cdev);
		n = node_of(e->m, path);
		assert_true(n.device);
		assert_int_equal(major(n.rdev), 242);
		fd = sio_machine_open(e->m, &n, O_RDWR);
		assert_true(fd >= 0);
		assert_int_equal(sio_file_close(fd), 0);
		snprintf(path, sizeof(path), "/dev/vfio/%u", s.info[0].group);
		n = node_of(e->m, path);
		assert_int_equal(major(n.rdev), 243);
		fd = sio_machine_open(e->m, &n, O_RDWR);
		assert_true(fd >= 0);
		assert_int_equal(sio_file_close(fd), 0);
	}

	/* config: the function's config space as of the open. */
	n = node_of(e->m, "/sys/bus/pci/devices/0100:00:01.0/config");
	assert_false(n.device);
	fd = sio_machine_open(e->m, &n, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	text = slurp_fd(fd, &len);
	assert_int_equal(len, 4096);
	assert_int_equal((uint8_t)text[0], 0x86);
	assert_int_equal((uint8_t)text[1], 0x80);
	assert_int_equal((uint8_t)text[2], 0x21);
	assert_int_equal((uint8_t)text[3], 0x20);
	assert_int_equal((uint8_t)text[0x15], 0x38);	/* BAR0 bits 47:40 */
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(fd);

	/* The dump: the group's default domain is a paging one ("DMA"). */
	n = node_of(e->m, "/sys/kernel/debug/iommu/intel/0100:00:01.0/domain_translation_struct");
	fd = sio_machine_open(e->m, &n, O_RDONLY);
	assert_true(fd >= 0);
	text = slurp_fd(fd, &len);
	assert_non_null(strstr(text, "Device 0100:00:01.0 with pasid 0 @0x"));
	assert_null(strstr(text, "0x0000000000123 |"));
	close(fd);
	{
		struct sio_device *dev = sio_pci_dev_device(s.info[0].pdev);
		struct sio_group *group;
		struct sio_domain *d;

		assert_int_equal(sio_device_group(dev, &group), 0);
		d = sio_group_domain(group);
		assert_int_equal(sio_domain_type(d), SIO_DOMAIN_PAGING);
		assert_int_equal(sio_map(d, 0x123000, 0x7f0000005000ull, 4096,
					 SIO_PROT_READ), 0);
		/* A new open sees the live table. */
		fd = sio_machine_open(e->m, &n, O_RDONLY);
		text = slurp_fd(fd, &len);
		assert_non_null(strstr(text, "\n0x0000000000123 |\t0x0000000000000000\t"));
		close(fd);
		assert_int_equal(sio_unmap(d, 0x123000, 4096), 4096);
		sio_group_put(group);
	}

	/* A node that is not one. */
	n.id = 9999;
	assert_int_equal(sio_machine_open(e->m, &n, O_RDONLY), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iommu_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_nodes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
