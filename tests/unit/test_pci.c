/*
 * The PCI device-model layer: config space rules, BAR routing, MSI-X and
 * MSI delivery with masking, function-level reset and DMA as the function,
 * driven through the public interface with a small test model.
 */
#include <linux/pci_regs.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "pci_helpers.h"

#include "softiommu/attach.h"
#include "softiommu/device.h"
#include "softiommu/domain.h"
#include "softiommu/pci.h"
#include "softiommu/soft.h"

#define BDF SIO_PCI_BDF(0x100, 0, 1, 0)
#define IOVA 0x100000ull

/* The test model: BAR0 has a scratch register at 0x0, a read-only
 * register at 0x8 and a doorbell at 0x10 that copies 64 bytes from IOVA to
 * IOVA + 4096 and raises vector 1. */
struct tmodel {
	uint64_t scratch;
	unsigned int resets, config_writes;
	int dma_rc;
	struct sio_pci_dev *pdev;
};

static uint64_t t_bar_read(struct sio_pci_dev *pdev, int bar, uint64_t off,
			   unsigned int size)
{
	struct tmodel *m = sio_pci_dev_priv(pdev);

	(void)bar;
	(void)size;
	if (off == 0)
		return m->scratch;
	if (off == 8)
		return 0x5a5a;
	return 0;
}

static void t_bar_write(struct sio_pci_dev *pdev, int bar, uint64_t off,
			unsigned int size, uint64_t val)
{
	struct tmodel *m = sio_pci_dev_priv(pdev);
	char buf[64];

	(void)bar;
	(void)size;
	if (off == 0) {
		m->scratch = val;
	} else if (off == 0x10) {
		m->dma_rc = sio_pci_dma_read(pdev, SIO_NO_PASID, IOVA, buf,
					     sizeof(buf), NULL);
		if (!m->dma_rc)
			m->dma_rc = sio_pci_dma_write(pdev, SIO_NO_PASID,
						      IOVA + 4096, buf,
						      sizeof(buf), NULL);
		sio_pci_model_irq(pdev, 1);
	}
}

static void t_reset(struct sio_pci_dev *pdev)
{
	struct tmodel *m = sio_pci_dev_priv(pdev);

	m->scratch = 0;
	m->resets++;
}

static void t_config_write(struct sio_pci_dev *pdev, uint32_t off,
			   unsigned int size, uint32_t val)
{
	struct tmodel *m = sio_pci_dev_priv(pdev);

	(void)off;
	(void)size;
	(void)val;
	m->config_writes++;
}

static const struct sio_pci_model_ops t_ops = {
	.bar_read = t_bar_read,
	.bar_write = t_bar_write,
	.config_write = t_config_write,
	.reset = t_reset,
};

struct env {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_pci_dev *pdev;
	struct tmodel m;
	unsigned int irqs[8];
	enum sio_pci_irq_type last_type;
};

static void sink_signal(void *opaque, enum sio_pci_irq_type type,
			unsigned int vector)
{
	struct env *e = opaque;

	e->irqs[vector]++;
	e->last_type = type;
}

static struct sio_pci_dev_desc t_desc(struct tmodel *m)
{
	return (struct sio_pci_dev_desc){
		.model = "test",
		.bdf = BDF,
		.vendor_id = 0x1234,
		.device_id = 0x5678,
		.subsystem_vendor_id = 0x1234,
		.subsystem_id = 0x0001,
		.class_code = 0x088000,
		.revision = 2,
		.bars[0] = { .size = 16384, .flags = SIO_PCI_BAR_MEM64 },
		.bars[2] = { .size = 4096 },
		.msix_vectors = 4,
		.msix_bar = 0,
		.msix_table_offset = 0x2000,
		.msix_pba_offset = 0x3000,
		.msi_vectors = 4,
		.pcie = true,
		.ops = &t_ops,
		.priv = m,
	};
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct sio_soft_config cfg = { .format = SIO_PT_VTD_SS };
	struct sio_pci_dev_desc d = t_desc(&e->m);

	assert_int_equal(sio_system_create(&e->sys), 0);
	assert_int_equal(sio_soft_iommu_create(e->sys, "vtd", &cfg, &e->iommu), 0);
	assert_int_equal(sio_pci_dev_create(e->iommu, &d, &e->pdev), 0);
	e->m.pdev = e->pdev;
	sio_pci_irq_connect(e->pdev, &(struct sio_pci_irq_sink){
		.signal = sink_signal, .opaque = e });
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	sio_pci_dev_destroy(e->pdev);
	assert_int_equal(sio_system_destroy(e->sys), 0);
	free(e);
	return 0;
}

static void bdf_text(void **state)
{
	char buf[16];
	uint32_t bdf;

	(void)state;
	assert_string_equal(sio_pci_bdf_format(SIO_PCI_BDF(0x100, 0x3a, 0x1f, 7),
					       buf, sizeof(buf)),
			    "0100:3a:1f.7");
	assert_int_equal(sio_pci_bdf_parse("0100:3a:1f.7", &bdf), 0);
	assert_int_equal(bdf, SIO_PCI_BDF(0x100, 0x3a, 0x1f, 7));
	assert_int_equal(sio_pci_bdf_parse("00:04.0", &bdf), 0);
	assert_int_equal(bdf, SIO_PCI_BDF(0, 0, 4, 0));
	assert_int_equal(SIO_PCI_BDF_RID(bdf), 0x20);
	assert_int_equal(sio_pci_bdf_parse("0000:00:20.0", &bdf), -EINVAL);
	assert_int_equal(sio_pci_bdf_parse("0000:00:04.8", &bdf), -EINVAL);
	assert_int_equal(sio_pci_bdf_parse("0000:00:04.0x", &bdf), -EINVAL);
	assert_int_equal(sio_pci_bdf_parse("nonsense", &bdf), -EINVAL);
	assert_int_equal(sio_pci_bdf_parse(NULL, &bdf), -EINVAL);
}

static void bad_descriptions(void **state)
{
	struct env *e = *state;
	struct sio_pci_dev *p;
	struct sio_pci_dev_desc d;

	d = t_desc(&e->m);
	d.bars[5] = (struct sio_pci_bar_desc){ 4096, SIO_PCI_BAR_MEM64 };
	assert_int_equal(sio_pci_dev_create(e->iommu, &d, &p), -EINVAL);
	d = t_desc(&e->m);
	d.bars[2].size = 3000;
	assert_int_equal(sio_pci_dev_create(e->iommu, &d, &p), -EINVAL);
	d = t_desc(&e->m);
	d.msix_table_offset = 16384 - 16;
	assert_int_equal(sio_pci_dev_create(e->iommu, &d, &p), -EINVAL);
	d = t_desc(&e->m);
	d.msi_vectors = 3;
	assert_int_equal(sio_pci_dev_create(e->iommu, &d, &p), -EINVAL);
	d = t_desc(&e->m);
	d.ops = NULL;
	assert_int_equal(sio_pci_dev_create(e->iommu, &d, &p), -EINVAL);
	assert_int_equal(sio_pci_dev_create(NULL, &d, &p), -EINVAL);
}

static void header(void **state)
{
	struct env *e = *state;
	uint32_t v;

	assert_int_equal(t_cfg_rd(e->pdev, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_DEVICE_ID, 2), 0x5678);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_VENDOR_ID, 4), 0x56781234);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_CLASS_REVISION, 4), 0x08800002);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1234);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_HEADER_TYPE, 1), 0);
	assert_true(t_cfg_rd(e->pdev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(sio_pci_dev_config_size(e->pdev), 4096);
	/* IDs are read-only. */
	t_cfg_wr(e->pdev, PCI_VENDOR_ID, 2, 0xffff);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_VENDOR_ID, 2), 0x1234);
	/* Command: only the defined enables stick. */
	t_cfg_wr(e->pdev, PCI_COMMAND, 2, 0xffff);
	v = t_cfg_rd(e->pdev, PCI_COMMAND, 2);
	assert_int_equal(v, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			    PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
			    PCI_COMMAND_INTX_DISABLE);
	/* Status error bits are write-1-to-clear. */
	sio_pci_model_config_set(e->pdev, PCI_STATUS, 2,
				 PCI_STATUS_CAP_LIST | PCI_STATUS_REC_MASTER_ABORT);
	t_cfg_wr(e->pdev, PCI_STATUS, 2, 0);
	assert_true(t_cfg_rd(e->pdev, PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT);
	t_cfg_wr(e->pdev, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	/* Bad accesses. */
	assert_int_equal(sio_pci_config_read(e->pdev, 1, 2, &v), -EINVAL);
	assert_int_equal(sio_pci_config_read(e->pdev, 0, 3, &v), -EINVAL);
	assert_int_equal(sio_pci_config_read(e->pdev, 4096, 1, &v), -EINVAL);
	assert_int_equal(sio_pci_config_write(e->pdev, 4094, 4, 0), -EINVAL);
	assert_int_equal(sio_pci_config_read(e->pdev, 0, 4, NULL), -EINVAL);
}

static void config_regs_in_desc(void **state)
{
	struct env *e = *state;
	static const struct sio_pci_config_reg regs[] = {
		{ 0x44, 4, 0x11, 0xff, 0 },
		{ 0x180, 4, 0, 0, ~0u },
	};
	static const struct sio_pci_config_reg taken[] = {
		{ 0x06, 2, 0, 0, 0 },
	};
	struct sio_pci_dev_desc d = t_desc(&e->m);
	struct sio_pci_dev *p;
	uint32_t v;

	d.bdf = SIO_PCI_BDF(0x100, 0, 2, 0);
	d.config_regs = taken;
	d.nconfig_regs = 1;
	assert_int_equal(sio_pci_dev_create(e->iommu, &d, &p), -EBUSY);
	d.config_regs = regs;
	d.nconfig_regs = 2;
	assert_int_equal(sio_pci_dev_create(e->iommu, &d, &p), 0);
	assert_int_equal(sio_pci_config_read(p, 0x44, 4, &v), 0);
	assert_int_equal(v, 0x11);
	assert_int_equal(sio_pci_config_write(p, 0x44, 4, 0xabcd), 0);
	assert_int_equal(sio_pci_config_read(p, 0x44, 4, &v), 0);
	assert_int_equal(v, 0xcd);
	sio_pci_model_config_set(p, 0x180, 4, 6);
	assert_int_equal(sio_pci_config_write(p, 0x180, 4, 2), 0);
	assert_int_equal(sio_pci_config_read(p, 0x180, 4, &v), 0);
	assert_int_equal(v, 4);
	/* Reset restores the declared power-on values. */
	assert_int_equal(sio_pci_reset(p), 0);
	assert_int_equal(sio_pci_config_read(p, 0x44, 4, &v), 0);
	assert_int_equal(v, 0x11);
	sio_pci_dev_destroy(p);
}

static void intx(void **state)
{
	struct env *e = *state;
	struct sio_pci_dev_desc d = t_desc(&e->m);
	struct sio_pci_dev *p;
	unsigned int n = 9;

	d.bdf = SIO_PCI_BDF(0x100, 0, 3, 0);
	d.intx = true;
	assert_int_equal(sio_pci_dev_create(e->iommu, &d, &p), 0);
	sio_pci_irq_connect(p, &(struct sio_pci_irq_sink){
		.signal = sink_signal, .opaque = e });
	assert_int_equal(sio_pci_model_irq_mode(p, &n), SIO_PCI_IRQ_NONE);
	assert_int_equal(n, 0);
	assert_int_equal(sio_pci_irq_set_mode(p, SIO_PCI_IRQ_INTX, 2), -EINVAL);
	assert_int_equal(sio_pci_irq_set_mode(p, SIO_PCI_IRQ_INTX, 1), 0);
	assert_int_equal(sio_pci_model_irq_mode(p, &n), SIO_PCI_IRQ_INTX);
	assert_int_equal(n, 1);
	assert_int_equal(sio_pci_model_irq(p, 0), 0);
	assert_int_equal(e->irqs[0], 1);
	assert_int_equal(e->last_type, SIO_PCI_IRQ_INTX);
	assert_true(sio_pci_model_config_get(p, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	sio_pci_model_intx_deassert(p);
	assert_false(sio_pci_model_config_get(p, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Interrupt Disable in the command register holds the line. */
	assert_int_equal(sio_pci_config_write(p, PCI_COMMAND, 2,
					      PCI_COMMAND_INTX_DISABLE), 0);
	assert_int_equal(sio_pci_model_irq(p, 0), 1);
	assert_int_equal(e->irqs[0], 1);
	assert_int_equal(sio_pci_model_irq(p, 1), -EINVAL);
	sio_pci_dev_destroy(p);
}

static void bar_sizing(void **state)
{
	struct env *e = *state;

	/* 64-bit BAR0 of 16 KiB: all ones reads back the size mask. */
	assert_int_equal(t_cfg_rd(e->pdev, PCI_BASE_ADDRESS_0, 4),
			 PCI_BASE_ADDRESS_MEM_TYPE_64);
	t_cfg_wr(e->pdev, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	t_cfg_wr(e->pdev, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_BASE_ADDRESS_0, 4),
			 0xffffc000 | PCI_BASE_ADDRESS_MEM_TYPE_64);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_BASE_ADDRESS_1, 4), 0xffffffff);
	/* 32-bit BAR2 of 4 KiB; BAR3 absent reads 0 and stays 0. */
	t_cfg_wr(e->pdev, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_BASE_ADDRESS_2, 4), 0xfffff000);
	t_cfg_wr(e->pdev, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_BASE_ADDRESS_3, 4), 0);
	/* No ROM. */
	t_cfg_wr(e->pdev, PCI_ROM_ADDRESS, 4, 0xffffffff);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_ROM_ADDRESS, 4), 0);
	t_cfg_wr(e->pdev, PCI_BASE_ADDRESS_0, 4, 0xfebf0000);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_BASE_ADDRESS_0, 4),
			 0xfebf0000 | PCI_BASE_ADDRESS_MEM_TYPE_64);
}

static void capabilities(void **state)
{
	struct env *e = *state;
	uint32_t exp = t_find_cap(e->pdev, PCI_CAP_ID_EXP);
	uint32_t msix = t_find_cap(e->pdev, PCI_CAP_ID_MSIX);
	uint32_t msi = t_find_cap(e->pdev, PCI_CAP_ID_MSI);
	uint32_t pm = t_find_cap(e->pdev, PCI_CAP_ID_PM);

	assert_true(exp >= 0x40 && msix && msi && pm);
	assert_int_equal(t_find_cap(e->pdev, PCI_CAP_ID_VPD), 0);
	assert_int_equal(t_cfg_rd(e->pdev, exp + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_VERS, 2);
	assert_true(t_cfg_rd(e->pdev, exp + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR);
	assert_int_equal(t_cfg_rd(e->pdev, msix + PCI_MSIX_FLAGS, 2) &
			 PCI_MSIX_FLAGS_QSIZE, 3);
	assert_int_equal(t_cfg_rd(e->pdev, msix + PCI_MSIX_TABLE, 4), 0x2000);
	assert_int_equal(t_cfg_rd(e->pdev, msix + PCI_MSIX_PBA, 4), 0x3000);
	/* MSI: 4 vectors capable (MMC = 2), 64-bit, maskable. */
	assert_int_equal(t_cfg_rd(e->pdev, msi + PCI_MSI_FLAGS, 2),
			 PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (2 << 1));
	/* The MSI-X table size field is read-only. */
	t_cfg_wr(e->pdev, msix + PCI_MSIX_FLAGS, 2, 0x3ff);
	assert_int_equal(t_cfg_rd(e->pdev, msix + PCI_MSIX_FLAGS, 2), 3);
	/* No extended capability without PASID. */
	assert_int_equal(t_cfg_rd(e->pdev, 0x100, 4), 0);
}

static void model_registers(void **state)
{
	struct env *e = *state;
	unsigned int writes = e->m.config_writes;

	assert_int_equal(sio_pci_model_config_reg(e->pdev, 0x48, 4, 0x10,
						  0x0000ffff, 0xffff0000), 0);
	assert_int_equal(t_cfg_rd(e->pdev, 0x48, 4), 0x10);
	sio_pci_model_config_set(e->pdev, 0x48, 4, 0x00030010);
	t_cfg_wr(e->pdev, 0x48, 4, 0x00011234);
	assert_int_equal(t_cfg_rd(e->pdev, 0x48, 4), 0x00021234);
	assert_int_equal(sio_pci_model_config_get(e->pdev, 0x48, 4), 0x00021234);
	assert_true(e->m.config_writes > writes);
	/* Over the library's registers, misaligned, out of range. */
	assert_int_equal(sio_pci_model_config_reg(e->pdev, 0x04, 2, 0, 0, 0), -EBUSY);
	assert_int_equal(sio_pci_model_config_reg(e->pdev, 0x60, 4, 0, 0, 0), -EBUSY);
	assert_int_equal(sio_pci_model_config_reg(e->pdev, 0x49, 2, 0, 0, 0), -EINVAL);
	assert_int_equal(sio_pci_model_config_reg(e->pdev, 0x1000, 4, 0, 0, 0), -EINVAL);
	assert_int_equal(sio_pci_model_config_reg(e->pdev, 0x48, 4, 0, 0, 0), -EBUSY);
}

static void bar_access(void **state)
{
	struct env *e = *state;
	uint64_t v;

	assert_int_equal(sio_pci_bar_write(e->pdev, 0, 0, 8, 0x1122334455667788ull), 0);
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 0, 8, &v), 0);
	assert_int_equal(v, 0x1122334455667788ull);
	/* A narrower read returns only its bytes. */
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 0, 2, &v), 0);
	assert_int_equal(v, 0x7788);
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 8, 4, &v), 0);
	assert_int_equal(v, 0x5a5a);
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 2, 4, &v), -EINVAL);
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 16384, 1, &v), -EINVAL);
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 0, 16, &v), -EINVAL);
	assert_int_equal(sio_pci_bar_read(e->pdev, 1, 0, 4, &v), -EINVAL);
	assert_int_equal(sio_pci_bar_read(e->pdev, 6, 0, 4, &v), -EINVAL);
	assert_int_equal(sio_pci_bar_write(e->pdev, 4, 0, 4, 0), -EINVAL);
}

static uint32_t msix_ctrl(struct env *e)
{
	return t_cfg_rd(e->pdev, t_find_cap(e->pdev, PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS, 2);
}

static void msix(void **state)
{
	struct env *e = *state;
	uint32_t cap = t_find_cap(e->pdev, PCI_CAP_ID_MSIX);
	uint64_t v;

	/* Nothing enabled: the model's interrupt goes nowhere. */
	assert_int_equal(sio_pci_model_irq(e->pdev, 0), -ENODEV);
	/* Power-on: every vector masked in the table. */
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 0x2000 + 12, 4, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sio_pci_irq_set_mode(e->pdev, SIO_PCI_IRQ_MSIX, 5), -EINVAL);
	assert_int_equal(sio_pci_irq_set_mode(e->pdev, SIO_PCI_IRQ_MSIX, 2), 0);
	assert_true(msix_ctrl(e) & PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(sio_pci_irq_mode(e->pdev, &(unsigned int){0}),
			 SIO_PCI_IRQ_MSIX);
	assert_int_equal(sio_pci_model_irq(e->pdev, 1), 0);
	assert_int_equal(e->irqs[1], 1);
	assert_int_equal(e->last_type, SIO_PCI_IRQ_MSIX);
	assert_int_equal(sio_pci_model_irq(e->pdev, 2), -EINVAL);
	/* Mask vector 1 in the table: held in the PBA, delivered on unmask. */
	assert_int_equal(sio_pci_bar_write(e->pdev, 0, 0x2000 + 16 + 12, 4, 1), 0);
	assert_int_equal(sio_pci_model_irq(e->pdev, 1), 1);
	assert_int_equal(e->irqs[1], 1);
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 0x3000, 8, &v), 0);
	assert_int_equal(v, 2);
	/* The PBA is read-only. */
	assert_int_equal(sio_pci_bar_write(e->pdev, 0, 0x3000, 8, 0), 0);
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 0x3000, 8, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(sio_pci_bar_write(e->pdev, 0, 0x2000 + 16 + 12, 4, 0), 0);
	assert_int_equal(e->irqs[1], 2);
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 0x3000, 8, &v), 0);
	assert_int_equal(v, 0);
	/* The function mask holds every vector. */
	t_cfg_wr(e->pdev, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE |
					   PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(sio_pci_model_irq(e->pdev, 0), 1);
	assert_int_equal(e->irqs[0], 0);
	t_cfg_wr(e->pdev, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(e->irqs[0], 1);
	/* Table address/data are plain storage. */
	assert_int_equal(sio_pci_bar_write(e->pdev, 0, 0x2000, 8, 0xfee00000ull |
					   (0x41ull << 32)), 0);
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 0x2000, 8, &v), 0);
	assert_int_equal(v, 0xfee00000ull | (0x41ull << 32));
	/* Adding vectors while MSI-X is on keeps the function mask and the
	 * vectors already there; only the new ones come unmasked. */
	assert_int_equal(sio_pci_bar_write(e->pdev, 0, 0x2000 + 12, 4, 1), 0);
	t_cfg_wr(e->pdev, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE |
						   PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(sio_pci_irq_set_mode(e->pdev, SIO_PCI_IRQ_MSIX, 4), 0);
	assert_true(msix_ctrl(e) & PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 0x2000 + 12, 4, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sio_pci_bar_read(e->pdev, 0, 0x2000 + 32 + 12, 4, &v), 0);
	assert_int_equal(v, 0);
	t_cfg_wr(e->pdev, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(sio_pci_bar_write(e->pdev, 0, 0x2000 + 12, 4, 0), 0);
	/* Disabled again. */
	assert_int_equal(sio_pci_irq_set_mode(e->pdev, SIO_PCI_IRQ_NONE, 0), 0);
	assert_false(msix_ctrl(e) & PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(sio_pci_model_irq(e->pdev, 0), -ENODEV);
}

static void msi(void **state)
{
	struct env *e = *state;
	uint32_t cap = t_find_cap(e->pdev, PCI_CAP_ID_MSI);

	assert_int_equal(sio_pci_irq_set_mode(e->pdev, SIO_PCI_IRQ_MSI, 4), 0);
	assert_int_equal(t_cfg_rd(e->pdev, cap + PCI_MSI_FLAGS, 2) &
			 (PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE),
			 PCI_MSI_FLAGS_ENABLE | (2 << 4));
	assert_int_equal(sio_pci_model_irq(e->pdev, 3), 0);
	assert_int_equal(e->irqs[3], 1);
	assert_int_equal(e->last_type, SIO_PCI_IRQ_MSI);
	t_cfg_wr(e->pdev, cap + PCI_MSI_MASK_64, 4, 1u << 3);
	assert_int_equal(sio_pci_model_irq(e->pdev, 3), 1);
	assert_int_equal(t_cfg_rd(e->pdev, cap + PCI_MSI_PENDING_64, 4), 1u << 3);
	t_cfg_wr(e->pdev, cap + PCI_MSI_MASK_64, 4, 0);
	assert_int_equal(e->irqs[3], 2);
	assert_int_equal(t_cfg_rd(e->pdev, cap + PCI_MSI_PENDING_64, 4), 0);
	assert_int_equal(sio_pci_model_irq(e->pdev, 4), -EINVAL);
	/* No INTx pin on this function. */
	assert_int_equal(sio_pci_irq_set_mode(e->pdev, SIO_PCI_IRQ_INTX, 1), -EINVAL);
}

static void flr(void **state)
{
	struct env *e = *state;
	uint32_t exp = t_find_cap(e->pdev, PCI_CAP_ID_EXP);
	unsigned int resets = e->m.resets;

	assert_int_equal(resets, 1);	/* at creation */
	t_cfg_wr(e->pdev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(sio_pci_bar_write(e->pdev, 0, 0, 8, 42), 0);
	assert_int_equal(sio_pci_irq_set_mode(e->pdev, SIO_PCI_IRQ_MSIX, 4), 0);
	t_cfg_wr(e->pdev, exp + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR);
	assert_int_equal(e->m.resets, resets + 1);
	assert_int_equal(e->m.scratch, 0);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_COMMAND, 2), 0);
	assert_int_equal(t_cfg_rd(e->pdev, exp + PCI_EXP_DEVCTL, 2) &
			 PCI_EXP_DEVCTL_BCR_FLR, 0);
	assert_false(msix_ctrl(e) & PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(sio_pci_model_irq(e->pdev, 0), -ENODEV);
	assert_int_equal(sio_pci_reset(e->pdev), 0);
	assert_int_equal(e->m.resets, resets + 2);
}

static void dma(void **state)
{
	struct env *e = *state;
	struct sio_device *dev = sio_pci_dev_device(e->pdev);
	struct sio_dma_fault last;
	struct sio_domain *dom;
	char *buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_ptr_not_equal(buf, MAP_FAILED);
	assert_string_equal(sio_device_name(dev), "0100:00:01.0");
	assert_int_equal(sio_device_rid(dev), 0x08);
	assert_int_equal(sio_domain_alloc_paging(dev, 0, NULL, &dom), 0);
	assert_int_equal(sio_attach_device(dom, dev), 0);
	assert_int_equal(sio_map(dom, IOVA, (uintptr_t)buf, 4096,
				 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	assert_int_equal(sio_map(dom, IOVA + 4096, (uintptr_t)buf + 4096, 4096,
				 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	memset(buf, 'a', 64);
	assert_int_equal(sio_pci_irq_set_mode(e->pdev, SIO_PCI_IRQ_MSIX, 2), 0);
	/* Bus Master off: nothing moves, the fault is counted. */
	assert_int_equal(sio_pci_bar_write(e->pdev, 0, 0x10, 4, 1), 0);
	assert_int_equal(e->m.dma_rc, -EPERM);
	assert_int_equal(buf[4096], 0);
	assert_int_equal(sio_pci_dev_dma_faults(e->pdev, &last), 1);
	assert_int_equal(last.reason, SIO_FAULT_BLOCKED);
	/* Bus Master on: the copy and its interrupt. */
	t_cfg_wr(e->pdev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(sio_pci_bar_write(e->pdev, 0, 0x10, 4, 1), 0);
	assert_int_equal(e->m.dma_rc, 0);
	assert_memory_equal(buf + 4096, buf, 64);
	assert_int_equal(e->irqs[1], 2);
	/* Unmapped destination: a translation fault, recorded. */
	assert_int_equal(sio_unmap(dom, IOVA + 4096, 4096), 4096);
	assert_int_equal(sio_pci_bar_write(e->pdev, 0, 0x10, 4, 1), 0);
	assert_int_equal(e->m.dma_rc, -EFAULT);
	assert_int_equal(sio_pci_dev_dma_faults(e->pdev, &last), 2);
	assert_int_equal(last.reason, SIO_FAULT_NOT_MAPPED);
	assert_int_equal(last.iova, IOVA + 4096);
	assert_int_equal(sio_unmap(dom, IOVA, 4096), 4096);
	sio_detach_device(dev);
	sio_domain_free(dom);
	munmap(buf, 8192);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bdf_text),
		cmocka_unit_test_setup_teardown(bad_descriptions, setup, teardown),
		cmocka_unit_test_setup_teardown(header, setup, teardown),
		cmocka_unit_test_setup_teardown(bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(config_regs_in_desc, setup, teardown),
		cmocka_unit_test_setup_teardown(intx, setup, teardown),
		cmocka_unit_test_setup_teardown(capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(model_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(bar_access, setup, teardown),
		cmocka_unit_test_setup_teardown(msix, setup, teardown),
		cmocka_unit_test_setup_teardown(msi, setup, teardown),
		cmocka_unit_test_setup_teardown(flr, setup, teardown),
		cmocka_unit_test_setup_teardown(dma, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
