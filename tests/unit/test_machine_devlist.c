/*
 * The device list of `softiommu run` (src/machine/devlist.c): the items a
 * program may give, the BDFs they end up at, and every refusal, against a
 * fake host whose sysfs has real devices at chosen BDFs.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "softiommu/common.h"
#include "softiommu/machine.h"
#include "softiommu/pci.h"
#include "machine/devlist.h"

/* A fake host root: <root>/sys/bus/pci/devices/<bdf> for each real one. */
struct host {
	char root[PATH_MAX];
	char sysfs[PATH_MAX + 8];
};

static void host_add(struct host *h, const char *bdf)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", h->sysfs, bdf);
	assert_int_equal(symlink("../../../devices/pci0000:00/x", path), 0);
}

static int setup(void **state)
{
	struct host *h = calloc(1, sizeof(*h));
	char cmd[PATH_MAX * 2];

	snprintf(h->root, sizeof(h->root), "/tmp/sio-devlist-XXXXXX");
	assert_non_null(mkdtemp(h->root));
	snprintf(h->sysfs, sizeof(h->sysfs), "%s/sys", h->root);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/bus/pci/devices", h->sysfs);
	assert_int_equal(system(cmd), 0);
	host_add(h, "0000:00:03.0");
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct host *h = *state;
	char cmd[PATH_MAX * 2];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", h->root);
	assert_int_equal(system(cmd), 0);
	free(h);
	return 0;
}

static int parse(struct host *h, const char *list, struct sio_devspec *s,
		 size_t *n)
{
	return sio_devlist_parse(list, h->sysfs, s, n);
}

static void test_default(void **state)
{
	struct sio_devspec s[SIO_DEVLIST_MAX];
	size_t n = 99;

	/* Nothing said, or only blanks: one ioat in the machine's segment. */
	assert_int_equal(parse(*state, NULL, s, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(s[0].model, "ioat");
	assert_int_equal(s[0].bdf, SIO_PCI_BDF(0x100, 0, 1, 0));
	assert_false(s[0].bdf_given);
	assert_int_equal(parse(*state, "  ", s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].bdf, SIO_PCI_BDF(0x100, 0, 1, 0));
	/* "none": no function at all. */
	assert_int_equal(parse(*state, "none", s, &n), 0);
	assert_int_equal(n, 0);
}

static void test_placement(void **state)
{
	struct sio_devspec s[SIO_DEVLIST_MAX];
	size_t n = 0;

	/* Given BDFs first; the others take free slots around them. */
	assert_int_equal(parse(*state,
			       "ioat; ioat , bdf=0100:00:01.0 ;ioat,bdf=05:1f.7;ioat",
			       s, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(s[0].bdf, SIO_PCI_BDF(0x100, 0, 2, 0));
	assert_int_equal(s[1].bdf, SIO_PCI_BDF(0x100, 0, 1, 0));
	assert_true(s[1].bdf_given);
	assert_int_equal(s[2].bdf, SIO_PCI_BDF(0, 5, 0x1f, 7));
	assert_int_equal(s[3].bdf, SIO_PCI_BDF(0x100, 0, 3, 0));
	/* Upper-case hex is the same BDF. */
	assert_int_equal(parse(*state, "ioat,bdf=0100:0A:1F.1", s, &n), 0);
	assert_int_equal(s[0].bdf, SIO_PCI_BDF(0x100, 0xa, 0x1f, 1));
}

static void test_real_devices(void **state)
{
	struct host *h = *state;
	struct sio_devspec s[SIO_DEVLIST_MAX];
	size_t n = 0;

	/* A real device's BDF: refused, with a message naming it... */
	assert_int_equal(parse(h, "ioat,bdf=0000:00:03.0", s, &n), -EEXIST);
	assert_non_null(strstr(sio_last_error(), "0000:00:03.0"));
	assert_non_null(strstr(sio_last_error(), "force"));
	assert_int_equal(n, 0);
	assert_int_equal(parse(h, "ioat,bdf=00:03.0", s, &n), -EEXIST);
	/* ...unless forced. */
	assert_int_equal(parse(h, "ioat,bdf=0000:00:03.0,force", s, &n), 0);
	assert_int_equal(n, 1);
	assert_true(s[0].force);
	assert_int_equal(parse(h, "ioat,force,bdf=0000:00:03.0", s, &n), 0);
	/* A real device in the machine's own segment is skipped by the
	 * automatic placement. */
	host_add(h, "0100:00:01.0");
	assert_int_equal(parse(h, NULL, s, &n), 0);
	assert_int_equal(s[0].bdf, SIO_PCI_BDF(0x100, 0, 2, 0));
}

static void test_refusals(void **state)
{
	static const struct {
		const char *list;
		const char *says;
	} bad[] = {
		{ "foo", "unknown model 'foo'" },
		{ "ioat;;ioat", "empty item" },
		{ "ioat;", "empty item" },
		{ ";ioat", "empty item" },
		{ ",bdf=0100:00:01.0", "no model" },
		{ "ioat,", "empty option" },
		{ "ioat,speed=3", "unknown option 'speed=3'" },
		{ "ioat,bdf=", "bad BDF" },
		{ "ioat,bdf=0100:00:20.0", "bad BDF" },
		{ "ioat,bdf=0100:00:01.8", "bad BDF" },
		{ "ioat,bdf=zz", "bad BDF" },
		{ "ioat,bdf=0100:00:01.0,bdf=0100:00:02.0", "given twice" },
		{ "ioat,bdf=0100:00:01.0;ioat,bdf=0100:00:01.0", "given twice" },
		{ "none;ioat", "unknown model 'none'" },
		{ "ioatx", "unknown model" },
	};
	struct sio_devspec s[SIO_DEVLIST_MAX];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 42;
		assert_int_equal(parse(*state, bad[i].list, s, &n), -EINVAL);
		assert_int_equal(n, 0);
		if (!strstr(sio_last_error(), bad[i].says))
			fail_msg("'%s': '%s' lacks '%s'", bad[i].list,
				 sio_last_error(), bad[i].says);
	}
}

static void test_limits(void **state)
{
	struct sio_devspec s[SIO_DEVLIST_MAX];
	char list[SIO_DEVLIST_MAX * 8];
	size_t n, pos = 0;

	for (int i = 0; i < SIO_DEVLIST_MAX; i++)
		pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%sioat",
					i ? ";" : "");
	assert_int_equal(parse(*state, list, s, &n), 0);
	assert_int_equal(n, SIO_DEVLIST_MAX);
	/* Slots go on past device 31 onto the next bus. */
	assert_int_equal(s[31].bdf, SIO_PCI_BDF(0x100, 1, 0, 0));
	snprintf(list + pos, sizeof(list) - pos, ";ioat");
	assert_int_equal(parse(*state, list, s, &n), -EINVAL);
	assert_non_null(strstr(sio_last_error(), "more than"));
}

/* The machine refuses the same lists, with the same errors. */
static void test_machine_refuses(void **state)
{
	struct host *h = *state;
	struct sio_machine_config cfg = { .host_root = h->root };
	struct sio_machine *m = (void *)1;

	cfg.devices = "ioat,bdf=0000:00:03.0";
	assert_int_equal(sio_machine_create(&cfg, &m), -EEXIST);
	cfg.devices = "ioat;ioat,bdf=0100:00:02.0;ioat,bdf=0100:00:02.0";
	assert_int_equal(sio_machine_create(&cfg, &m), -EINVAL);
	cfg.devices = "dsa";
	assert_int_equal(sio_machine_create(&cfg, &m), -EINVAL);
	assert_int_equal(sio_machine_create(&cfg, NULL), -EINVAL);
	cfg.devices = "ioat,bdf=0000:00:03.0,force";
	assert_int_equal(sio_machine_create(&cfg, &m), 0);
	assert_int_equal(sio_machine_device_count(m), 1);
	sio_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_placement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_machine_refuses, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
