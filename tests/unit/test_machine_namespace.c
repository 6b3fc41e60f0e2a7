/*
 * The host namespace from a plain description (src/machine/namespace.c,
 * layout.c): the files, their text and modes as the kernel has them, the
 * symlinks' exact text, the layout's roots and unions against a fake host,
 * path resolution, and the device nodes and generated files found by
 * inode through any of their names.
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

#include "softiommu/machine.h"
#include "softiommu/pci.h"
#include "machine/namespace.h"

#define B0 "0100:00:01.0"
#define B1 "0100:00:05.0"
#define DEV0 "/sys/devices/pci0100:00/" B0

static const struct sio_ns_resv resv[] = {
	{ 0xfee00000, 0xfeefffff, "msi" },
};

static const struct sio_ns_function fns[] = {
	{
		.bdf = SIO_PCI_BDF(0x100, 0, 1, 0),
		.vendor = 0x8086, .device = 0x2021,
		.subsystem_vendor = 0x8086, .subsystem_device = 0,
		.class_code = 0x088000, .revision = 4, .config_size = 4096,
		.bars = { [0] = { 0x380000000000ull, 0x4000, SIO_PCI_BAR_MEM64 },
			  [2] = { 0xc0000000ull, 0x1000, SIO_PCI_BAR_PREFETCH },
			  [4] = { 0x2000, 0x20, SIO_PCI_BAR_IO } },
		.group = 3, .cdev = 0, .group_type = "DMA",
		.resv = resv, .nresv = 1,
	},
	{
		.bdf = SIO_PCI_BDF(0x100, 0, 5, 0),
		.vendor = 0x1234, .device = 0xabcd,
		.subsystem_vendor = 0x1af4, .subsystem_device = 0x1100,
		.class_code = 0x010802, .revision = 0x11, .config_size = 256,
		.group = 7, .cdev = 1, .group_type = "identity",
	},
};

static const struct sio_ns_desc desc = {
	.iommu = "dmar0", .iommu_cap = 0xd2008c40660462ull,
	.iommu_ecap = 0xf050da, .iommu_address = 0xfed90000,
	.fns = fns, .nfns = 2,
};

struct ns {
	char dir[PATH_MAX];	/* the tree */
	char real[PATH_MAX];	/* a fake host root */
};

static void rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	struct ns *ns = calloc(1, sizeof(*ns));

	snprintf(ns->dir, sizeof(ns->dir), "/tmp/sio-ns-XXXXXX");
	assert_non_null(mkdtemp(ns->dir));
	snprintf(ns->real, sizeof(ns->real), "/tmp/sio-host-XXXXXX");
	assert_non_null(mkdtemp(ns->real));
	assert_int_equal(sio_ns_build(ns->dir, &desc), 0);
	*state = ns;
	return 0;
}

static int teardown(void **state)
{
	struct ns *ns = *state;

	rm_rf(ns->dir);
	rm_rf(ns->real);
	free(ns);
	return 0;
}

/* The text of the tree's file at path (a namespace path). */
static char *text(struct ns *ns, const char *path)
{
	static char buf[8192];
	char full[PATH_MAX * 2];
	ssize_t n;
	int fd;

	snprintf(full, sizeof(full), "%s%s", ns->dir, path);
	fd = open(full, O_RDONLY);
	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static void expect_text(struct ns *ns, const char *path, const char *want)
{
	const char *have = text(ns, path);

	if (strcmp(have, want))
		fail_msg("%s: '%s', expected '%s'", path, have, want);
}

static void expect_link(struct ns *ns, const char *path, const char *want)
{
	char full[PATH_MAX * 2], buf[PATH_MAX];
	ssize_t n;

	snprintf(full, sizeof(full), "%s%s", ns->dir, path);
	n = readlink(full, buf, sizeof(buf) - 1);
	if (n < 0)
		fail_msg("readlink %s: %s", path, strerror(errno));
	buf[n] = '\0';
	if (strcmp(buf, want))
		fail_msg("%s -> '%s', expected '%s'", path, buf, want);
}

static struct stat st_of(struct ns *ns, const char *path, bool follow)
{
	char full[PATH_MAX * 2];
	struct stat st;

	snprintf(full, sizeof(full), "%s%s", ns->dir, path);
	if ((follow ? stat : lstat)(full, &st))
		fail_msg("stat %s: %s", path, strerror(errno));
	return st;
}

static void expect_mode(struct ns *ns, const char *path, mode_t mode)
{
	struct stat st = st_of(ns, path, false);

	if ((st.st_mode & 07777) != mode)
		fail_msg("%s: mode %o, expected %o", path, st.st_mode & 07777, mode);
}

static void test_pci_attributes(void **state)
{
	struct ns *ns = *state;
	char want[256];
	long cpus = sysconf(_SC_NPROCESSORS_CONF);

	expect_text(ns, DEV0 "/vendor", "0x8086\n");
	expect_text(ns, DEV0 "/device", "0x2021\n");
	expect_text(ns, DEV0 "/subsystem_vendor", "0x8086\n");
	expect_text(ns, DEV0 "/subsystem_device", "0x0000\n");
	expect_text(ns, DEV0 "/class", "0x088000\n");
	expect_text(ns, DEV0 "/revision", "0x04\n");
	expect_text(ns, "/sys/devices/pci0100:00/" B1 "/class", "0x010802\n");
	expect_text(ns, "/sys/devices/pci0100:00/" B1 "/revision", "0x11\n");
	expect_text(ns, DEV0 "/modalias",
		    "pci:v00008086d00002021sv00008086sd00000000bc08sc80i00\n");
	expect_text(ns, DEV0 "/uevent",
		    "DRIVER=vfio-pci\nPCI_CLASS=88000\nPCI_ID=8086:2021\n"
		    "PCI_SUBSYS_ID=8086:0000\nPCI_SLOT_NAME=0100:00:01.0\n"
		    "MODALIAS=pci:v00008086d00002021sv00008086sd00000000bc08sc80i00\n");
	expect_text(ns, DEV0 "/numa_node", "-1\n");
	expect_text(ns, DEV0 "/irq", "0\n");
	snprintf(want, sizeof(want), cpus > 1 ? "0-%ld\n" : "0\n", cpus - 1);
	expect_text(ns, DEV0 "/local_cpulist", want);
	if (cpus <= 32) {
		snprintf(want, sizeof(want), "%lx\n", (1ul << cpus) - 1);
		expect_text(ns, DEV0 "/local_cpus", want);
	}
	/* 13 lines: 6 BARs, the ROM, 6 SR-IOV BARs; flags as the kernel's
	 * IORESOURCE_* with the BAR's type bits. */
	expect_text(ns, DEV0 "/resource",
		    "0x0000380000000000 0x0000380000003fff 0x0000000000140204\n"
		    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		    "0x00000000c0000000 0x00000000c0000fff 0x0000000000042208\n"
		    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		    "0x0000000000002000 0x000000000000201f 0x0000000000040101\n"
		    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
	/* The kernel's modes. */
	expect_mode(ns, DEV0 "/vendor", 0444);
	expect_mode(ns, DEV0 "/resource", 0444);
	expect_mode(ns, DEV0 "/numa_node", 0644);
	expect_mode(ns, DEV0 "/config", 0644);
	expect_mode(ns, DEV0 "/reset", 0200);
	expect_mode(ns, DEV0 "/remove", 0220);
	/* config is as long as the config space (a placeholder). */
	assert_int_equal(st_of(ns, DEV0 "/config", false).st_size, 4096);
	assert_int_equal(st_of(ns, "/sys/devices/pci0100:00/" B1 "/config",
			       false).st_size, 256);
	/* PCI Express functions have link attributes, others not. */
	expect_text(ns, DEV0 "/max_link_width", "4\n");
}

static void test_links(void **state)
{
	struct ns *ns = *state;

	/* The text a kernel's sysfs gives for each. */
	expect_link(ns, "/sys/bus/pci/devices/" B0,
		    "../../../devices/pci0100:00/" B0);
	expect_link(ns, "/sys/bus/pci/drivers/vfio-pci/" B0,
		    "../../../../devices/pci0100:00/" B0);
	expect_link(ns, DEV0 "/driver", "../../../bus/pci/drivers/vfio-pci");
	expect_link(ns, DEV0 "/subsystem", "../../../bus/pci");
	expect_link(ns, DEV0 "/iommu_group", "../../../kernel/iommu_groups/3");
	expect_link(ns, DEV0 "/iommu", "../../virtual/iommu/dmar0");
	expect_link(ns, "/sys/kernel/iommu_groups/3/devices/" B0,
		    "../../../../devices/pci0100:00/" B0);
	expect_link(ns, "/sys/kernel/iommu_groups/7/devices/" B1,
		    "../../../../devices/pci0100:00/" B1);
	expect_link(ns, DEV0 "/vfio-dev/vfio0/device", "../../../" B0);
	expect_link(ns, DEV0 "/vfio-dev/vfio0/subsystem",
		    "../../../../../class/vfio-dev");
	expect_link(ns, "/sys/class/vfio-dev/vfio0",
		    "../../devices/pci0100:00/" B0 "/vfio-dev/vfio0");
	expect_link(ns, "/sys/class/vfio/3", "../../devices/virtual/vfio/3");
	expect_link(ns, "/sys/devices/virtual/vfio/3/subsystem",
		    "../../../../class/vfio");
	expect_link(ns, "/sys/dev/char/242:1",
		    "../../devices/pci0100:00/" B1 "/vfio-dev/vfio1");
	expect_link(ns, "/sys/dev/char/243:0", "../../devices/virtual/vfio/3");
	expect_link(ns, "/sys/dev/char/243:1", "../../devices/virtual/vfio/7");
	expect_link(ns, "/sys/class/iommu/dmar0", "../../devices/virtual/iommu/dmar0");
	expect_link(ns, "/sys/devices/virtual/iommu/dmar0/devices/" B1,
		    "../../../../pci0100:00/" B1);

	/* They resolve inside the tree to what the kernel's do. */
	{
		char path[PATH_MAX * 2], real[PATH_MAX], want[PATH_MAX * 2];

		snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/" B0
			 "/iommu_group/devices/" B0 "/vfio-dev/vfio0/device/vendor",
			 ns->dir);
		assert_non_null(realpath(path, real));
		snprintf(want, sizeof(want), "%s" DEV0 "/vendor", ns->dir);
		assert_string_equal(real, want);
	}
}

static void test_groups_vfio_iommu(void **state)
{
	struct ns *ns = *state;

	expect_text(ns, "/sys/kernel/iommu_groups/3/type", "DMA\n");
	expect_text(ns, "/sys/kernel/iommu_groups/7/type", "identity\n");
	expect_text(ns, "/sys/kernel/iommu_groups/3/reserved_regions",
		    "0x00000000fee00000 0x00000000feefffff msi\n");
	expect_text(ns, "/sys/kernel/iommu_groups/7/reserved_regions", "");
	expect_text(ns, DEV0 "/vfio-dev/vfio0/dev", "242:0\n");
	expect_text(ns, DEV0 "/vfio-dev/vfio0/uevent",
		    "MAJOR=242\nMINOR=0\nDEVNAME=vfio/devices/vfio0\n");
	/* Group nodes take minors in order of appearance. */
	expect_text(ns, "/sys/devices/virtual/vfio/7/dev", "243:1\n");
	expect_text(ns, "/sys/devices/virtual/vfio/7/uevent",
		    "MAJOR=243\nMINOR=1\nDEVNAME=vfio/7\n");
	expect_text(ns, "/sys/devices/virtual/iommu/dmar0/intel-iommu/cap",
		    "d2008c40660462\n");
	expect_text(ns, "/sys/devices/virtual/iommu/dmar0/intel-iommu/ecap",
		    "f050da\n");
	expect_text(ns, "/sys/devices/virtual/iommu/dmar0/intel-iommu/address",
		    "fed90000\n");
	expect_text(ns, "/sys/devices/virtual/iommu/dmar0/intel-iommu/version",
		    "1:0\n");
	/* Device nodes and the dump are empty placeholders. */
	assert_true(S_ISREG(st_of(ns, "/dev/vfio/3", false).st_mode));
	assert_true(S_ISREG(st_of(ns, "/dev/vfio/devices/vfio1", false).st_mode));
	expect_mode(ns, "/dev/vfio/vfio", 0666);
	expect_mode(ns, "/dev/iommu", 0600);
	expect_text(ns, "/sys/kernel/debug/iommu/intel/" B1
		    "/domain_translation_struct", "");
	expect_mode(ns, "/sys/kernel/debug/iommu/intel/" B1
		    "/domain_translation_struct", 0444);
}

static void test_relative(void **state)
{
	static const struct {
		const char *link, *target, *want;
	} cases[] = {
		{ "/a/b/c", "/a/d", "../d" },
		{ "/a/b/c", "/a/b", "../b" },
		{ "/a/b/c", "/a/b/c/d", "c/d" },
		{ "/a/b/c", "/a", "../../a" },
		{ "/a/bc/d", "/a/b/e", "../b/e" },
		{ "/x", "/y/z", "y/z" },
	};
	char buf[PATH_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sio_ns_relative(cases[i].link, cases[i].target,
						 buf, sizeof(buf)), 0);
		if (strcmp(buf, cases[i].want))
			fail_msg("%s -> %s: '%s', expected '%s'", cases[i].link,
				 cases[i].target, buf, cases[i].want);
	}
	assert_int_equal(sio_ns_relative("/a/b/c", "/a/d/eeeeeeee", buf, 8),
			 -ENAMETOOLONG);
}

/* A fake host: what it has decides the roots. */
static void host_mkdir(struct ns *ns, const char *path)
{
	char cmd[PATH_MAX * 2];

	snprintf(cmd, sizeof(cmd), "mkdir -p %s%s", ns->real, path);
	assert_int_equal(system(cmd), 0);
}

static bool has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static void test_layout(void **state)
{
	struct ns *ns = *state;
	struct sio_ns_layout *l;

	host_mkdir(ns, "/sys/bus/pci/devices/0000:00:03.0");
	host_mkdir(ns, "/sys/bus/pci/drivers/virtio-pci");
	host_mkdir(ns, "/sys/kernel/iommu_groups/3/devices");	/* taken */
	host_mkdir(ns, "/sys/kernel/debug");
	host_mkdir(ns, "/sys/class/iommu");
	host_mkdir(ns, "/sys/devices/virtual/misc");
	host_mkdir(ns, "/sys/dev/char");
	host_mkdir(ns, "/dev");
	assert_int_equal(sio_ns_layout_create(&desc, ns->dir, ns->real, &l), 0);

	/* The topmost component the host lacks... */
	assert_true(has(l->roots, l->nroots, "/sys/bus/pci/devices/" B0));
	assert_true(has(l->roots, l->nroots, "/sys/bus/pci/drivers/vfio-pci"));
	assert_true(has(l->roots, l->nroots, "/sys/devices/pci0100:00"));
	assert_true(has(l->roots, l->nroots, "/sys/kernel/iommu_groups/7"));
	assert_true(has(l->roots, l->nroots, "/sys/kernel/debug/iommu"));
	assert_true(has(l->roots, l->nroots, "/sys/class/vfio-dev"));
	assert_true(has(l->roots, l->nroots, "/sys/class/iommu/dmar0"));
	assert_true(has(l->roots, l->nroots, "/sys/devices/virtual/iommu"));
	assert_true(has(l->roots, l->nroots, "/sys/dev/char/242:0"));
	assert_true(has(l->roots, l->nroots, "/sys/dev/char/243:1"));
	assert_true(has(l->roots, l->nroots, "/dev/vfio"));
	assert_true(has(l->roots, l->nroots, "/dev/iommu"));
	/* ...or the entry itself, shadowing the host's. */
	assert_true(has(l->roots, l->nroots, "/sys/kernel/iommu_groups/3"));
	/* No root inside another. */
	assert_false(has(l->roots, l->nroots, "/dev/vfio/vfio"));
	assert_false(has(l->roots, l->nroots, DEV0));
	/* The host directories above them list them. */
	assert_true(has(l->unions, l->nunions, "/sys/bus/pci/devices"));
	assert_true(has(l->unions, l->nunions, "/sys/kernel/iommu_groups"));
	assert_true(has(l->unions, l->nunions, "/sys/class"));
	assert_true(has(l->unions, l->nunions, "/sys"));
	assert_true(has(l->unions, l->nunions, "/dev"));
	assert_false(has(l->unions, l->nunions, "/"));
	assert_false(has(l->unions, l->nunions, "/sys/bus/pci/devices/" B0));
	sio_ns_layout_destroy(l);

	/* Where the host has the whole path, the entry shadows it exactly. */
	host_mkdir(ns, "/sys/devices/pci0100:00/" B0);
	host_mkdir(ns, "/dev/vfio/devices");
	assert_int_equal(sio_ns_layout_create(&desc, ns->dir, ns->real, &l), 0);
	assert_true(has(l->roots, l->nroots, DEV0));
	assert_true(has(l->roots, l->nroots, "/sys/devices/pci0100:00/" B1));
	assert_true(has(l->roots, l->nroots, "/dev/vfio/3"));
	assert_true(has(l->roots, l->nroots, "/dev/vfio/devices/vfio1"));
	assert_true(has(l->unions, l->nunions, "/dev/vfio/devices"));
	sio_ns_layout_destroy(l);
}

static enum sio_machine_path_kind resolve(const struct sio_ns_layout *l,
					  struct ns *ns, const char *path,
					  const char *want)
{
	struct sio_machine_path p;
	char full[PATH_MAX * 2];
	enum sio_machine_path_kind k = sio_ns_resolve(l, ns->dir, path, &p);

	if (want) {
		snprintf(full, sizeof(full), "%s%s", ns->dir, want);
		if (k == SIO_MACHINE_PATH_NONE || strcmp(p.path, full))
			fail_msg("%s: kind %d '%s', expected '%s'", path, k,
				 k ? p.path : "", full);
	}
	return k;
}

static void test_resolve(void **state)
{
	struct ns *ns = *state;
	struct sio_ns_layout *l;

	host_mkdir(ns, "/sys/bus/pci/devices/0000:00:03.0");
	host_mkdir(ns, "/sys/kernel/iommu_groups/0");
	host_mkdir(ns, "/dev");
	assert_int_equal(sio_ns_layout_create(&desc, ns->dir, ns->real, &l), 0);

	assert_int_equal(resolve(l, ns, "/sys/bus/pci/devices/" B0 "/vendor",
				 "/sys/bus/pci/devices/" B0 "/vendor"),
			 SIO_MACHINE_PATH_REDIRECT);
	/* Repeated slashes and "." go; ".." stays for the tree. */
	assert_int_equal(resolve(l, ns, "//sys///bus/pci/./devices/" B0 "/./vendor",
				 "/sys/bus/pci/devices/" B0 "/vendor"),
			 SIO_MACHINE_PATH_REDIRECT);
	assert_int_equal(resolve(l, ns, "/sys/bus/pci/devices/" B0 "/../" B0 "/vendor",
				 "/sys/bus/pci/devices/" B0 "/../" B0 "/vendor"),
			 SIO_MACHINE_PATH_REDIRECT);
	/* A trailing slash is kept (a directory is asked for). */
	assert_int_equal(resolve(l, ns, "/sys/bus/pci/devices/" B0 "/",
				 "/sys/bus/pci/devices/" B0 "/"),
			 SIO_MACHINE_PATH_REDIRECT);
	assert_int_equal(resolve(l, ns, "/sys/bus/pci/devices/" B0 "/.",
				 "/sys/bus/pci/devices/" B0 "/"),
			 SIO_MACHINE_PATH_REDIRECT);
	assert_int_equal(resolve(l, ns, "/sys/kernel/iommu_groups/7/type",
				 "/sys/kernel/iommu_groups/7/type"),
			 SIO_MACHINE_PATH_REDIRECT);
	assert_int_equal(resolve(l, ns, "/dev/vfio/devices/vfio1",
				 "/dev/vfio/devices/vfio1"),
			 SIO_MACHINE_PATH_REDIRECT);
	/* Host directories above the roots. */
	assert_int_equal(resolve(l, ns, "/sys/bus/pci/devices",
				 "/sys/bus/pci/devices"), SIO_MACHINE_PATH_UNION);
	assert_int_equal(resolve(l, ns, "/sys/bus/pci/devices/",
				 "/sys/bus/pci/devices"), SIO_MACHINE_PATH_UNION);
	assert_int_equal(resolve(l, ns, "/dev", "/dev"), SIO_MACHINE_PATH_UNION);
	/* The host's own entries, and everything else, are left alone. */
	assert_int_equal(resolve(l, ns, "/sys/bus/pci/devices/0000:00:03.0/vendor",
				 NULL), SIO_MACHINE_PATH_NONE);
	assert_int_equal(resolve(l, ns, "/sys/kernel/iommu_groups/0", NULL),
			 SIO_MACHINE_PATH_NONE);
	assert_int_equal(resolve(l, ns, "/sys/bus/pci/devices/" B0 "x", NULL),
			 SIO_MACHINE_PATH_NONE);
	assert_int_equal(resolve(l, ns, "sys/bus/pci/devices/" B0, NULL),
			 SIO_MACHINE_PATH_NONE);
	assert_int_equal(resolve(l, ns, "/proc/self/status", NULL),
			 SIO_MACHINE_PATH_NONE);
	assert_int_equal(resolve(l, ns, "/", NULL), SIO_MACHINE_PATH_NONE);
	assert_int_equal(resolve(l, ns, "/dev/null", NULL), SIO_MACHINE_PATH_NONE);
	assert_int_equal(resolve(l, ns, "/dev/iommux", NULL), SIO_MACHINE_PATH_NONE);
	assert_int_equal(resolve(NULL, ns, "/dev/iommu", NULL),
			 SIO_MACHINE_PATH_NONE);
	assert_int_equal(resolve(l, ns, NULL, NULL), SIO_MACHINE_PATH_NONE);
	sio_ns_layout_destroy(l);
}

static void test_nodes(void **state)
{
	struct ns *ns = *state;
	const struct sio_ns_node *n;
	struct sio_ns_layout *l;
	struct stat st;

	assert_int_equal(sio_ns_layout_create(&desc, ns->dir, ns->real, &l), 0);
	/* One file, every name of it. */
	st = st_of(ns, "/sys/bus/pci/devices/" B1 "/config", true);
	n = sio_ns_lookup(l, &st);
	assert_non_null(n);
	assert_int_equal(n->kind, SIO_NS_GEN_CONFIG);
	assert_int_equal(n->index, 1);
	st = st_of(ns, "/sys/kernel/iommu_groups/7/devices/" B1 "/config", true);
	assert_ptr_equal(sio_ns_lookup(l, &st), n);
	st = st_of(ns, "/sys/kernel/debug/iommu/intel/" B0
		   "/domain_translation_struct", true);
	n = sio_ns_lookup(l, &st);
	assert_non_null(n);
	assert_int_equal(n->kind, SIO_NS_GEN_DOMAIN_DUMP);
	assert_int_equal(n->index, 0);
	st = st_of(ns, "/dev/vfio/7", true);
	n = sio_ns_lookup(l, &st);
	assert_non_null(n);
	assert_int_equal(n->kind, SIO_NS_DEV_VFIO_GROUP);
	assert_int_equal(n->index, 7);
	assert_int_equal(n->rdev, makedev(243, 1));
	st = st_of(ns, "/dev/vfio/devices/vfio1", true);
	n = sio_ns_lookup(l, &st);
	assert_int_equal(n->kind, SIO_NS_DEV_VFIO_CDEV);
	assert_int_equal(n->index, 1);
	assert_int_equal(n->rdev, makedev(242, 1));
	st = st_of(ns, "/dev/vfio/vfio", true);
	assert_int_equal(sio_ns_lookup(l, &st)->rdev, makedev(10, 196));
	st = st_of(ns, "/dev/iommu", true);
	assert_int_equal(sio_ns_lookup(l, &st)->kind, SIO_NS_DEV_IOMMU);
	/* Plain files are not nodes. */
	st = st_of(ns, DEV0 "/vendor", true);
	assert_null(sio_ns_lookup(l, &st));
	sio_ns_layout_destroy(l);
}

static void test_stamp(void **state)
{
	struct ns *ns = *state;
	struct sio_ns_function other[2];
	struct sio_ns_desc d2 = desc;
	char empty[] = "/tmp/sio-empty-XXXXXX";

	assert_int_equal(sio_ns_stamp_matches(ns->dir, &desc), 1);
	memcpy(other, fns, sizeof(other));
	other[1].cdev = 4;
	d2.fns = other;
	assert_int_equal(sio_ns_stamp_matches(ns->dir, &d2), 0);
	d2 = desc;
	d2.iommu = "dmar1";
	assert_int_equal(sio_ns_stamp_matches(ns->dir, &d2), 0);
	assert_non_null(mkdtemp(empty));
	assert_int_equal(sio_ns_stamp_matches(empty, &desc), -ENOENT);
	rmdir(empty);
	/* A second build over the same tree fails on nothing (files are
	 * replaced, links kept). */
	assert_int_equal(sio_ns_build(ns->dir, &desc), 0);
	expect_text(ns, DEV0 "/vendor", "0x8086\n");
	assert_int_equal(sio_ns_build("relative", &desc), -EINVAL);
	assert_int_equal(sio_ns_build("/nonexistent-dir-of-sio/x", &desc), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pci_attributes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups_vfio_iommu, setup, teardown),
		cmocka_unit_test(test_relative),
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stamp, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
