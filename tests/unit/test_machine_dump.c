/*
 * The Intel debugfs page-table dump (src/machine/dump.c) and the read-only
 * leaf walk under it (sio_pt_for_each_leaf): a VT-d second-stage domain
 * with 4 KiB, 2 MiB and 1 GiB leaves, read back the way the kernel's VFIO
 * selftest vfio_dma_mapping_test reads
 * /sys/kernel/debug/iommu/intel/<bdf>/domain_translation_struct.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "softiommu/attach.h"
#include "softiommu/device.h"
#include "softiommu/domain.h"
#include "softiommu/pci.h"
#include "softiommu/soft.h"
#include "machine/namespace.h"
#include "pgtable/pt_format.h"

#define BDF SIO_PCI_BDF(0x100, 0, 1, 0)
#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull

struct env {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *dev;
	struct sio_domain *dom;
};

static int setup(void **state)
{
	struct sio_soft_config cfg = {
		.format = SIO_PT_VTD_SS, .levels = 4, .pasid_bits = 20,
		.default_domain_type = SIO_DOMAIN_BLOCKED, .dirty = true,
	};
	struct sio_device_desc desc = { .name = "0100:00:01.0", .rid = 8 };
	struct env *e = calloc(1, sizeof(*e));

	assert_int_equal(sio_system_create(&e->sys), 0);
	assert_int_equal(sio_soft_iommu_create(e->sys, "dmar0", &cfg, &e->iommu), 0);
	assert_int_equal(sio_device_probe(e->iommu, &desc, &e->dev), 0);
	assert_int_equal(sio_domain_alloc_paging(e->dev, 0, NULL, &e->dom), 0);
	assert_int_equal(sio_attach_device(e->dom, e->dev), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	sio_detach_device(e->dev);
	assert_int_equal(sio_domain_free(e->dom), 0);
	sio_device_remove(e->dev);
	sio_device_put(e->dev);
	assert_int_equal(sio_system_destroy(e->sys), 0);
	free(e);
	return 0;
}

/* What vfio_dma_mapping_test reads of the line for iova: the columns after
 * the IOVA page number, separated by blanks and '|'. */
struct mapping {
	uint64_t pgd, p4d, pud, pmd, pte;
};

static void next_value(char **rest, uint64_t *v)
{
	char *tok = strtok_r(*rest, " \t|\n", rest);

	if (tok)
		sscanf(tok, "0x%lx", v);
}

static int find(const char *text, uint64_t iova, struct mapping *m)
{
	char *copy = strdup(text), *save = NULL;
	int rc = -ENOENT;

	for (char *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char buf[512], *rest = buf;
		uint64_t pfn = ~0ull;

		snprintf(buf, sizeof(buf), "%s\n", line);
		next_value(&rest, &pfn);
		if (pfn != iova / 4096)
			continue;
		memset(m, 0, sizeof(*m));
		next_value(&rest, &m->pgd);
		next_value(&rest, &m->p4d);
		next_value(&rest, &m->pud);
		next_value(&rest, &m->pmd);
		next_value(&rest, &m->pte);
		rc = 0;
		break;
	}
	free(copy);
	return rc;
}

static char *dump(struct sio_domain *d)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(sio_ns_domain_dump(d, BDF, &text, &len), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

static uint64_t raw(struct sio_domain *d, uint64_t iova, unsigned int level)
{
	uint64_t e = 0;

	assert_true(sio_pt_test_raw_entry_at(sio_soft_domain_pgtable(d), iova,
					     level, &e));
	return e;
}

static void test_page_sizes(void **state)
{
	struct env *e = *state;
	const uint64_t i4k = 0x100000, i2m = 0x400000, i1g = SZ_1G;
	struct mapping m;
	char head[128];
	char *text;

	/* Addresses are only stored: the table never reads through them. */
	assert_int_equal(sio_map(e->dom, i4k, 0x7f0000001000ull, SZ_4K,
				 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	assert_int_equal(sio_map(e->dom, i2m, 0x7f0000200000ull, SZ_2M,
				 SIO_PROT_READ), 0);
	assert_int_equal(sio_map(e->dom, i1g, 0x7f0040000000ull, SZ_1G,
				 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	text = dump(e->dom);

	/* The kernel's two header lines. */
	snprintf(head, sizeof(head), "Device 0100:00:01.0 with pasid 0 @0x%llx\n",
		 (unsigned long long)sio_pt_root_address(
			 sio_soft_domain_pgtable(e->dom)));
	assert_memory_equal(text, head, strlen(head));
	assert_non_null(strstr(text, "IOVA_PFN         \tPML5E             \t"
				     "PML4E             \tPDPE              \t"
				     "PDE               \tPTE\n"));
	/* A line per leaf, in IOVA order, with the kernel's layout. */
	assert_non_null(strstr(text, "\n0x0000000000100 |\t0x0000000000000000\t"));

	/* 4 KiB: a PTE; a 4-level table has no PML5E. */
	assert_int_equal(find(text, i4k, &m), 0);
	assert_int_equal(m.pgd, 0);
	assert_int_equal(m.p4d, raw(e->dom, i4k, 3));
	assert_int_equal(m.pud, raw(e->dom, i4k, 2));
	assert_int_equal(m.pmd, raw(e->dom, i4k, 1));
	assert_int_equal(m.pte, raw(e->dom, i4k, 0));
	assert_int_equal(m.pte & ~0xfffull, 0x7f0000001000ull);
	assert_int_equal(m.pte & 3, 3);		/* R, W */
	/* 2 MiB: the PDE is the leaf (PS), no PTE column. */
	assert_int_equal(find(text, i2m, &m), 0);
	assert_int_equal(m.pte, 0);
	assert_int_not_equal(m.pmd, 0);
	assert_int_equal(m.pmd, raw(e->dom, i2m, 1));
	assert_true(m.pmd & (1u << 7));
	assert_int_equal(m.pmd & ~0xfffull, 0x7f0000200000ull);
	/* 1 GiB: the PDPE is the leaf. */
	assert_int_equal(find(text, i1g, &m), 0);
	assert_int_equal(m.pte, 0);
	assert_int_equal(m.pmd, 0);
	assert_int_not_equal(m.pud, 0);
	assert_true(m.pud & (1u << 7));
	/* One line per leaf: the second page of the 2 MiB leaf has none. */
	assert_int_equal(find(text, i2m + SZ_4K, &m), -ENOENT);
	assert_int_equal(find(text, 0x200000, &m), -ENOENT);
	free(text);

	/* Unmapped: the line goes. */
	assert_int_equal(sio_unmap(e->dom, i2m, SZ_2M), (ssize_t)SZ_2M);
	text = dump(e->dom);
	assert_int_equal(find(text, i2m, &m), -ENOENT);
	assert_int_equal(find(text, i4k, &m), 0);
	free(text);
}

/* Only paging domains have a table: the others print nothing, as a PASID
 * entry that is cleared or passes through. */
static void test_no_table(void **state)
{
	struct env *e = *state;
	struct sio_domain *blocked, *identity;
	char *text;

	assert_int_equal(sio_domain_get_blocked(e->dev, &blocked), 0);
	text = dump(blocked);
	assert_string_equal(text, "");
	free(text);
	if (!sio_domain_get_identity(e->dev, &identity)) {
		text = dump(identity);
		assert_string_equal(text, "");
		free(text);
	}
	text = dump(NULL);
	assert_string_equal(text, "");
	free(text);
	/* An empty paging domain: the headers alone. */
	text = dump(e->dom);
	assert_non_null(strstr(text, "IOVA_PFN"));
	assert_null(strstr(text, " |\t"));
	free(text);
}

struct leaves {
	unsigned int n, stop_at;
	uint64_t iova[8], size[8];
	unsigned int level[8], levels;
};

static int on_leaf(void *arg, const struct sio_pt_leaf *leaf)
{
	struct leaves *l = arg;

	if (l->n < 8) {
		l->iova[l->n] = leaf->iova;
		l->size[l->n] = leaf->size;
		l->level[l->n] = leaf->level;
	}
	l->levels = leaf->levels;
	/* Below the leaf the entries are 0. */
	for (unsigned int i = 0; i < leaf->level; i++)
		assert_int_equal(leaf->entry[i], 0);
	assert_int_not_equal(leaf->entry[leaf->level], 0);
	return ++l->n == l->stop_at ? 42 : 0;
}

static void test_walk(void **state)
{
	struct env *e = *state;
	struct sio_pt *pt = sio_soft_domain_pgtable(e->dom);
	struct leaves l = { 0 };

	assert_int_equal(sio_pt_for_each_leaf(pt, on_leaf, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(sio_map(e->dom, 3 * SZ_2M, 0x10000000, SZ_2M,
				 SIO_PROT_READ), 0);
	assert_int_equal(sio_map(e->dom, SZ_4K, 0x20000000, 2 * SZ_4K,
				 SIO_PROT_READ), 0);
	assert_int_equal(sio_map(e->dom, 0x7fff00000000ull, 0x30000000, SZ_4K,
				 SIO_PROT_WRITE), 0);
	assert_int_equal(sio_pt_for_each_leaf(pt, on_leaf, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.levels, 4);
	assert_int_equal(l.iova[0], SZ_4K);
	assert_int_equal(l.iova[1], 2 * SZ_4K);
	assert_int_equal(l.size[1], SZ_4K);
	assert_int_equal(l.level[1], 0);
	assert_int_equal(l.iova[2], 3 * SZ_2M);
	assert_int_equal(l.size[2], SZ_2M);
	assert_int_equal(l.level[2], 1);
	assert_int_equal(l.iova[3], 0x7fff00000000ull);
	/* A non-zero return stops the walk and is returned. */
	l = (struct leaves){ .stop_at = 2 };
	assert_int_equal(sio_pt_for_each_leaf(pt, on_leaf, &l), 42);
	assert_int_equal(l.n, 2);
}

/* A 5-level table fills the PML5E column. */
static void test_five_levels(void **state)
{
	struct sio_pt_cfg cfg = { .format = SIO_PT_VTD_SS, .levels = 5 };
	struct leaves l = { 0 };
	struct sio_pt *pt;
	size_t mapped = 0;

	(void)state;
	assert_int_equal(sio_pt_create(&cfg, &pt), 0);
	assert_int_equal(sio_pt_map_pages(pt, 1ull << 50, 0x5000, SZ_4K, 1,
					  SIO_PROT_READ, &mapped), 0);
	assert_int_equal(sio_pt_for_each_leaf(pt, on_leaf, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.levels, 5);
	assert_int_equal(l.iova[0], 1ull << 50);
	sio_pt_destroy(pt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_page_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
		cmocka_unit_test(test_five_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
