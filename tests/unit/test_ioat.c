/*
 * The I/OAT model driven through its registers as the kernel's drivers
 * drive it: the VFIO selftest driver's sequence (identity, reset, one
 * self-pointing descriptor run DMACOUNT times, SUSPEND), the ioatdma
 * driver's (CHANCTRL, a completion address written in halves, a NULL
 * descriptor to start, appends by running count), and what goes wrong:
 * unmapped and read-only IOVAs, Bus Master off, bad lengths and opcodes,
 * bad addresses, invalid commands.  The function sits behind a soft
 * IOMMU with a VT-d second-stage table; every DMA goes through it.
 *
 * Register offsets and bits are written here from the driver's register
 * map, independently of the model's header, so a wrong offset there
 * fails here.
 */
#include <linux/pci_regs.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pci_helpers.h"

#include "softiommu/attach.h"
#include "softiommu/device.h"
#include "softiommu/domain.h"
#include "softiommu/ioat.h"
#include "softiommu/pci.h"
#include "softiommu/soft.h"
#include "models/ioat/ioat_private.h"

#define BDF SIO_PCI_BDF(0x100, 0, 4, 0)

/* Device registers. */
#define R_CHANCNT	0x00
#define R_XFERCAP	0x01
#define R_INTRCTRL	0x03
#define R_ATTNSTATUS	0x04
#define R_VER		0x08
#define R_PERPORT	0x0a
#define R_DMACAP	0x10
#define  INTRCTRL_MASTER	0x01
#define  INTRCTRL_STATUS	0x02
#define  INTRCTRL_INT		0x04
#define  INTRCTRL_MSIX		0x08
/* Channel registers (BAR0 + 0x80). */
#define CH		0x80
#define R_CHANCTRL	(CH + 0x00)
#define R_CHANCMD	(CH + 0x04)
#define R_DMACOUNT	(CH + 0x06)
#define R_CHANSTS	(CH + 0x08)
#define R_CHAINADDR	(CH + 0x10)
#define R_CHANCMP	(CH + 0x18)
#define R_CDAR		(CH + 0x20)
#define R_CHANERR	(CH + 0x28)
#define R_CHANERRMSK	(CH + 0x2c)
#define R_DCACTRL	(CH + 0x30)
#define  CTRL_INT_REARM		0x0001
#define  CTRL_ERR_COMPL		0x0004
#define  CTRL_ANY_ERR_ABORT	0x0008
#define  CTRL_ERR_INT		0x0010
#define  CTRL_RUN (CTRL_INT_REARM | CTRL_ERR_COMPL | CTRL_ANY_ERR_ABORT | \
		   CTRL_ERR_INT)
#define  CMD_APPEND	0x02
#define  CMD_SUSPEND	0x04
#define  CMD_ABORT	0x08
#define  CMD_RESUME	0x10
#define  CMD_RESET	0x20
#define  ST_ACTIVE	0
#define  ST_DONE	1
#define  ST_SUSPENDED	2
#define  ST_HALTED	3
#define  ERR_NEXT_ADDR	0x0004
#define  ERR_NEXT_ALIGN	0x0008
#define  ERR_CHAIN_ADDR	0x0010
#define  ERR_CHANCMD	0x0020
#define  ERR_READ_DATA	0x0100
#define  ERR_WRITE_DATA	0x0200
#define  ERR_CONTROL	0x0400
#define  ERR_LENGTH	0x0800
#define  ERR_COMPL_ADDR	0x1000
/* Config registers. */
#define C_DMACTRL	0x48
#define C_DMAUNCERRSTS	0x148
#define C_CHANERR_INT	0x180
#define C_CHANERRMSK	0x184
/* Descriptor control. */
#define D_INT_EN	(1u << 0)
#define D_COMPL_WRITE	(1u << 3)
#define D_NULL		(1u << 5)
#define D_OP(op)	((uint32_t)(op) << 24)

struct desc {
	uint32_t size;
	uint32_t ctl;
	uint64_t src, dst, next;
	uint64_t rsv[4];
};

/* Host memory, mapped at IOVA: descriptors, completion, source, dest. */
#define IOVA		0x40000000ull
#define MEM_SIZE	(4u << 20)
#define MAPPED		(3u << 20)	/* RW; the next page is read-only */
#define RO_OFF		MAPPED
#define UNMAPPED	(IOVA + (64u << 20))
#define DESC_OFF	0x0
#define COMPL_OFF	0x1000
#define SMALL_OFF	0x1100
#define SRC_OFF		0x100000
#define DST_OFF		0x200000
#define SZ_1M		(1u << 20)

struct env {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_pci_dev *pdev;
	struct sio_domain *dom;
	uint8_t *mem;
	unsigned int irqs[2];
	enum sio_pci_irq_type irq_type;
};

static void sink_signal(void *opaque, enum sio_pci_irq_type type,
			unsigned int vector)
{
	struct env *e = opaque;

	if (vector < 2)
		e->irqs[vector]++;
	e->irq_type = type;
}

static uint64_t rd(struct env *e, uint64_t off, unsigned int size)
{
	uint64_t v = 0xdeadbeefdeadbeefull;

	assert_int_equal(sio_pci_bar_read(e->pdev, 0, off, size, &v), 0);
	return v;
}

static void wr(struct env *e, uint64_t off, unsigned int size, uint64_t v)
{
	assert_int_equal(sio_pci_bar_write(e->pdev, 0, off, size, v), 0);
}

static unsigned int status(struct env *e)
{
	return (unsigned int)(rd(e, R_CHANSTS, 8) & 7);
}

static struct ioat_stats stats(struct env *e)
{
	struct ioat_stats st;

	assert_int_equal(ioat_stats_get(e->pdev, &st), 0);
	return st;
}

static struct desc *desc_at(struct env *e, unsigned int i)
{
	return (struct desc *)(e->mem + DESC_OFF) + i;
}

static uint64_t desc_iova(unsigned int i)
{
	return IOVA + DESC_OFF + (uint64_t)i * sizeof(struct desc);
}

/* What the selftest driver does to clear errors and reset the channel:
 * CHANERR_INT, DMAUNCERRSTS and CHANERR cleared by writing back what
 * they read, RESET, poll until the bit clears, then HALTED. */
static void sel_reset(struct env *e)
{
	uint32_t v;
	int n;

	v = t_cfg_rd(e->pdev, C_CHANERR_INT, 4);
	t_cfg_wr(e->pdev, C_CHANERR_INT, 4, v);
	v = t_cfg_rd(e->pdev, C_DMAUNCERRSTS, 4);
	t_cfg_wr(e->pdev, C_CHANERR_INT, 4, v);
	wr(e, R_CHANERR, 4, rd(e, R_CHANERR, 4));
	wr(e, R_CHANCMD, 1, CMD_RESET);
	for (n = 0; n < 5 && (rd(e, R_CHANCMD, 1) & CMD_RESET); n++)
		;
	assert_int_equal(rd(e, R_CHANCMD, 1) & CMD_RESET, 0);
	assert_int_equal(status(e), ST_HALTED);
}

/* The selftest driver's start: one descriptor whose next is itself. */
static void sel_start(struct env *e, uint64_t src, uint64_t dst,
		      uint32_t size, uint16_t count, bool interrupt)
{
	*desc_at(e, 0) = (struct desc){
		.size = size,
		.ctl = interrupt ? D_INT_EN : 0,
		.src = src,
		.dst = dst,
		.next = desc_iova(0),
	};
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_CHANCTRL, 2, CTRL_INT_REARM | CTRL_ANY_ERR_ABORT);
	wr(e, R_DMACOUNT, 2, count);
}

/* The selftest driver's wait: DONE, then SUSPEND until SUSPENDED; or
 * HALTED: -1. */
static int sel_wait(struct env *e)
{
	unsigned int st = status(e);

	if (st == ST_HALTED)
		return -1;
	assert_int_equal(st, ST_DONE);
	wr(e, R_CHANCMD, 1, CMD_SUSPEND);
	assert_int_equal(status(e), ST_SUSPENDED);
	return 0;
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 12));
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct sio_soft_config cfg = { .format = SIO_PT_VTD_SS };
	struct sio_device *dev;

	assert_non_null(e);
	e->mem = aligned_alloc(4096, MEM_SIZE);
	assert_non_null(e->mem);
	memset(e->mem, 0, MEM_SIZE);
	assert_int_equal(sio_system_create(&e->sys), 0);
	assert_int_equal(sio_soft_iommu_create(e->sys, "vtd", &cfg, &e->iommu), 0);
	assert_int_equal(sio_ioat_create(e->iommu, BDF, &e->pdev), 0);
	dev = sio_pci_dev_device(e->pdev);
	assert_int_equal(sio_domain_alloc_paging(dev, 0, NULL, &e->dom), 0);
	assert_int_equal(sio_attach_device(e->dom, dev), 0);
	assert_int_equal(sio_map(e->dom, IOVA, (uintptr_t)e->mem, MAPPED,
				 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	assert_int_equal(sio_map(e->dom, IOVA + RO_OFF,
				 (uintptr_t)e->mem + RO_OFF, 4096,
				 SIO_PROT_READ), 0);
	sio_pci_irq_connect(e->pdev, &(struct sio_pci_irq_sink){
		.signal = sink_signal, .opaque = e });
	*state = e;
	return 0;
}

/* setup, then the selftest driver's init: memory and bus mastering on,
 * reset, MSI-X vector control in INTRCTRL, MSI-X enabled. */
static int setup_init(void **state)
{
	struct env *e;

	setup(state);
	e = *state;
	t_cfg_wr(e->pdev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
				       PCI_COMMAND_INTX_DISABLE);
	sel_reset(e);
	wr(e, R_INTRCTRL, 1, INTRCTRL_MSIX);
	assert_int_equal(sio_pci_irq_set_mode(e->pdev, SIO_PCI_IRQ_MSIX, 1), 0);
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	struct sio_device *dev = sio_pci_dev_device(e->pdev);

	sio_detach_device(dev);
	sio_domain_free(e->dom);
	sio_pci_dev_destroy(e->pdev);
	assert_int_equal(sio_system_destroy(e->sys), 0);
	free(e->mem);
	free(e);
	return 0;
}

/* ------------------------------------------------------------------ */

static void identity(void **state)
{
	struct env *e = *state;
	uint32_t msix, lo, hi;

	/* What vfio_pci_device_match() and ioat_probe() check. */
	assert_int_equal(t_cfg_rd(e->pdev, PCI_VENDOR_ID, 2), 0x8086);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_DEVICE_ID, 2), 0x2021);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_CLASS_REVISION, 4) >> 8, 0x088000);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_REVISION_ID, 1), 0x04);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(rd(e, R_VER, 1), 0x33);
	assert_int_equal(rd(e, R_CHANCNT, 1), 1);
	assert_int_equal(rd(e, R_XFERCAP, 1), 20);
	assert_int_equal(1ul << rd(e, R_XFERCAP, 1), SZ_1M);
	assert_int_equal(rd(e, R_DMACAP, 4), 0);
	assert_int_equal(rd(e, R_PERPORT, 2), 0x80);
	/* One 8-byte read across the byte registers: CHANCNT, XFERCAP,
	 * GENCTRL, INTRCTRL, ATTNSTATUS. */
	assert_int_equal(rd(e, 0, 8), 0x1401);

	/* BAR0: 16 KiB, 64-bit memory. */
	t_cfg_wr(e->pdev, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	t_cfg_wr(e->pdev, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	lo = t_cfg_rd(e->pdev, PCI_BASE_ADDRESS_0, 4);
	hi = t_cfg_rd(e->pdev, PCI_BASE_ADDRESS_1, 4);
	assert_int_equal(lo, 0xffffc000u | PCI_BASE_ADDRESS_MEM_TYPE_64);
	assert_int_equal(hi, 0xffffffffu);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_BASE_ADDRESS_2, 4), 0);

	/* PCI Express endpoint; MSI-X with one vector, table at 0x2000 and
	 * PBA at 0x3000 of BAR0; no MSI. */
	assert_int_not_equal(t_find_cap(e->pdev, PCI_CAP_ID_EXP), 0);
	msix = t_find_cap(e->pdev, PCI_CAP_ID_MSIX);
	assert_int_not_equal(msix, 0);
	assert_int_equal(t_cfg_rd(e->pdev, msix + PCI_MSIX_FLAGS, 2) &
			 PCI_MSIX_FLAGS_QSIZE, 0);
	assert_int_equal(t_cfg_rd(e->pdev, msix + PCI_MSIX_TABLE, 4), 0x2000);
	assert_int_equal(t_cfg_rd(e->pdev, msix + PCI_MSIX_PBA, 4), 0x3000);
	assert_int_equal(t_find_cap(e->pdev, PCI_CAP_ID_MSI), 0);
	assert_int_equal(sio_pci_dev_config_size(e->pdev), 4096);

	/* The device-specific config registers the drivers touch. */
	assert_int_equal(t_cfg_rd(e->pdev, C_DMACTRL, 4), 0);
	t_cfg_wr(e->pdev, C_DMACTRL, 4, 0xffffffff);
	assert_int_equal(t_cfg_rd(e->pdev, C_DMACTRL, 4), 3);
	assert_int_equal(t_cfg_rd(e->pdev, C_DMAUNCERRSTS, 4), 0);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERR_INT, 4), 0);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERRMSK, 4), 0);

	/* ioat_stats_get refuses a function that is not an I/OAT. */
	assert_int_equal(ioat_stats_get(NULL, &(struct ioat_stats){ 0 }),
			 -EINVAL);
	{
		struct sio_pci_dev *none = NULL;

		assert_int_equal(sio_ioat_create(NULL, BDF, &none), -EINVAL);
		assert_null(none);
	}
}

static void power_on_and_reset(void **state)
{
	struct env *e = *state;

	/* Power-on: HALTED with nothing completed, as ioat_reset_hw and the
	 * selftest's reset expect. */
	assert_int_equal(rd(e, R_CHANSTS, 8), ST_HALTED);
	assert_int_equal(rd(e, R_CHANCMD, 1), 0);

	/* Channel registers take writes... */
	wr(e, R_CHANCTRL, 2, CTRL_RUN);
	wr(e, R_CHANCMP, 8, 0x123440);
	wr(e, R_CHAINADDR, 8, 0x5680);
	wr(e, R_CHANERRMSK, 4, 0x30000);
	wr(e, R_DCACTRL, 4, 0xffffffff);
	assert_int_equal(rd(e, R_CHANCTRL, 2), CTRL_RUN);
	assert_int_equal(rd(e, R_CHANCMP, 8), 0x123440);
	assert_int_equal(rd(e, R_CHAINADDR, 8), 0x5680);
	assert_int_equal(rd(e, R_CHANERRMSK, 4), 0x30000);
	assert_int_equal(rd(e, R_DCACTRL, 4), 0x1ffff);
	/* ...and RESET completes at once, back to power-on values. */
	wr(e, R_CHANCMD, 1, CMD_RESET);
	assert_int_equal(rd(e, R_CHANCMD, 1), 0);
	assert_int_equal(rd(e, R_CHANSTS, 8), ST_HALTED);
	assert_int_equal(rd(e, R_CHANCTRL, 2), 0);
	assert_int_equal(rd(e, R_CHANCMP, 8), 0);
	assert_int_equal(rd(e, R_CHAINADDR, 8), 0);
	assert_int_equal(rd(e, R_CHANERRMSK, 4), 0);
	assert_int_equal(rd(e, R_DCACTRL, 4), 0);
	/* The selftest driver's reset sequence on a fresh function. */
	sel_reset(e);
}

static void copy_4k(void **state)
{
	struct env *e = *state;
	uint8_t *src = e->mem + SRC_OFF, *dst = e->mem + DST_OFF;

	fill(src, 4096, 1);
	sel_start(e, IOVA + SRC_OFF, IOVA + DST_OFF, 4096, 1, false);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(0) | ST_DONE);
	assert_int_equal(sel_wait(e), 0);
	assert_memory_equal(dst, src, 4096);
	assert_int_equal(dst[4096], 0);		/* not a byte more */
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(0) | ST_SUSPENDED);
	assert_int_equal(e->irqs[0], 0);	/* int_en was clear */
	assert_int_equal(stats(e).descs, 1);
	assert_int_equal(stats(e).bytes, 4096);

	/* Again from SUSPENDED, at an odd offset and length. */
	fill(src, 4096, 9);
	sel_start(e, IOVA + SRC_OFF + 3, IOVA + DST_OFF + 5, 4001, 1, false);
	assert_int_equal(sel_wait(e), 0);
	assert_memory_equal(dst + 5, src + 3, 4001);
	assert_int_equal(stats(e).descs, 2);
}

static void copy_1m(void **state)
{
	struct env *e = *state;
	uint8_t *src = e->mem + SRC_OFF, *dst = e->mem + DST_OFF;

	fill(src, SZ_1M, 3);
	sel_start(e, IOVA + SRC_OFF, IOVA + DST_OFF, SZ_1M, 1, false);
	assert_int_equal(sel_wait(e), 0);
	assert_memory_equal(dst, src, SZ_1M);
	assert_int_equal(stats(e).bytes, SZ_1M);

	/* One byte above XFERCAP: a length error, nothing copied. */
	memset(dst, 0, SZ_1M);
	sel_start(e, IOVA + SRC_OFF, IOVA + DST_OFF, SZ_1M + 1, 1, false);
	assert_int_equal(sel_wait(e), -1);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_LENGTH);
	assert_int_equal(dst[0], 0);
	/* Size 0 on a copy is a length error too. */
	sel_reset(e);
	sel_start(e, IOVA + SRC_OFF, IOVA + DST_OFF, 0, 1, false);
	assert_int_equal(sel_wait(e), -1);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_LENGTH);
	sel_reset(e);
	assert_int_equal(rd(e, R_CHANERR, 4), 0);
}

static void count_chain(void **state)
{
	struct env *e = *state;
	uint8_t *src = e->mem + SRC_OFF, *dst = e->mem + DST_OFF;

	/* The selftest's memcpy storm: one descriptor processed count
	 * times. */
	fill(src, 4096, 5);
	sel_start(e, IOVA + SRC_OFF, IOVA + DST_OFF, 4096, 16, false);
	assert_int_equal(sel_wait(e), 0);
	assert_memory_equal(dst, src, 4096);
	assert_int_equal(stats(e).descs, 16);

	/* A real chain of three, each its own buffer; DMACOUNT counts
	 * appends: 2 runs the first two, 3 the third, without CHAINADDR. */
	sel_reset(e);
	memset(dst, 0, 3 * 4096);
	fill(src, 3 * 4096, 11);
	for (unsigned int i = 0; i < 3; i++)
		*desc_at(e, i) = (struct desc){
			.size = 4096,
			.src = IOVA + SRC_OFF + i * 4096,
			.dst = IOVA + DST_OFF + i * 4096,
			.next = desc_iova(i + 1),
		};
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_DMACOUNT, 2, 2);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(1) | ST_DONE);
	assert_memory_equal(dst, src, 2 * 4096);
	assert_int_equal(dst[2 * 4096], 0);
	assert_int_equal(rd(e, R_CDAR, 8), desc_iova(2));
	wr(e, R_DMACOUNT, 2, 3);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(2) | ST_DONE);
	assert_memory_equal(dst, src, 3 * 4096);
	/* The same count again is no new work. */
	wr(e, R_DMACOUNT, 2, 3);
	assert_int_equal(stats(e).descs, 16 + 3);

	/* The count is 16 bits and wraps: NULL descriptors round a ring of
	 * one up to 65535, then 65535 -> 1 is two more. */
	sel_reset(e);
	*desc_at(e, 0) = (struct desc){ .size = 1, .ctl = D_NULL,
					.next = desc_iova(0) };
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_DMACOUNT, 2, 0xffff);
	assert_int_equal(status(e), ST_DONE);
	assert_int_equal(stats(e).descs, 19 + 0xffff);
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(status(e), ST_DONE);
	assert_int_equal(stats(e).descs, 19 + 0xffff + 2);
}

/* What ioatdma does: CHANCTRL RUN, the completion address as two 32-bit
 * writes, a NULL descriptor at the head of a ring, then a copy appended
 * by bumping DMACOUNT; the completion reads as CHANSTS. */
static void completion_writeback(void **state)
{
	struct env *e = *state;
	uint64_t *compl = (uint64_t *)(e->mem + COMPL_OFF);
	uint8_t *src = e->mem + SRC_OFF, *dst = e->mem + DST_OFF;
	uint64_t faults;

	for (unsigned int i = 0; i < 4; i++)
		desc_at(e, i)->next = desc_iova((i + 1) % 4);
	wr(e, R_CHANCTRL, 2, CTRL_RUN);
	wr(e, R_CHANCMP, 4, (uint32_t)(IOVA + COMPL_OFF));
	wr(e, R_CHANCMP + 4, 4, (uint32_t)((IOVA + COMPL_OFF) >> 32));
	assert_int_equal(rd(e, R_CHANCMP, 8), IOVA + COMPL_OFF);
	desc_at(e, 0)->size = 1;
	desc_at(e, 0)->ctl = D_NULL | D_INT_EN | D_COMPL_WRITE;
	wr(e, R_CHAINADDR, 4, (uint32_t)desc_iova(0));
	wr(e, R_CHAINADDR + 4, 4, (uint32_t)(desc_iova(0) >> 32));
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(*compl, desc_iova(0) | ST_DONE);
	assert_int_equal(rd(e, R_CHANSTS, 8), *compl);
	assert_int_equal(e->irqs[0], 1);

	/* Two copies, the first with a completion: it says ACTIVE (more
	 * to do), the second without; then a third with one: DONE. */
	fill(src, 3 * 2000, 21);
	for (unsigned int i = 1; i < 4; i++) {
		desc_at(e, i)->size = 2000;
		desc_at(e, i)->ctl = i == 2 ? 0 : D_COMPL_WRITE;
		desc_at(e, i)->src = IOVA + SRC_OFF + (i - 1) * 2000;
		desc_at(e, i)->dst = IOVA + DST_OFF + (i - 1) * 2000;
	}
	desc_at(e, 2)->next = desc_iova(3);
	desc_at(e, 3)->next = 0x7;		/* never fetched */
	/* Stop the engine after desc 1 by making desc 2 fault. */
	desc_at(e, 2)->src = UNMAPPED;
	wr(e, R_DMACOUNT, 2, 3);
	assert_int_equal(status(e), ST_HALTED);
	/* The error completion (ERR_COMPLETION_EN) overwrote desc 1's
	 * ACTIVE one with the halt, naming the last descriptor done. */
	assert_int_equal(*compl, desc_iova(1) | ST_HALTED);
	assert_memory_equal(dst, src, 2000);

	/* Without the error completion, desc 1's own completion stays:
	 * ACTIVE, because desc 2 was still to come. */
	sel_reset(e);
	wr(e, R_CHANCTRL, 2, CTRL_INT_REARM);
	wr(e, R_CHANCMP, 8, IOVA + COMPL_OFF);
	*compl = 0;
	wr(e, R_CHAINADDR, 8, desc_iova(1));
	wr(e, R_DMACOUNT, 2, 2);
	assert_int_equal(status(e), ST_HALTED);
	assert_int_equal(*compl, desc_iova(1) | ST_ACTIVE);

	/* All good: the last completion says DONE. */
	sel_reset(e);
	desc_at(e, 2)->src = IOVA + SRC_OFF + 2000;
	wr(e, R_CHANCMP, 8, IOVA + COMPL_OFF);
	wr(e, R_CHAINADDR, 8, desc_iova(1));
	wr(e, R_DMACOUNT, 2, 3);
	assert_int_equal(*compl, desc_iova(3) | ST_DONE);
	assert_memory_equal(dst, src, 3 * 2000);

	/* A completion address that does not translate: the descriptor's
	 * data moved, the channel halts with COMPLETION_ADDR_ERR. */
	sel_reset(e);
	faults = stats(e).faults;
	wr(e, R_CHANCTRL, 2, CTRL_RUN);
	wr(e, R_CHANCMP, 8, UNMAPPED);
	wr(e, R_CHAINADDR, 8, desc_iova(1));
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(1) | ST_HALTED);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_COMPL_ADDR);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERR_INT, 4), ERR_COMPL_ADDR);
	/* One failed write, not retried for the error completion. */
	assert_int_equal(stats(e).faults, faults + 1);
}

static void interrupts(void **state)
{
	struct env *e = *state;
	uint64_t *small = (uint64_t *)(e->mem + SMALL_OFF);

	/* The selftest's send_msi: an 8-byte copy with int_en raises the
	 * channel's MSI-X vector 0, once. */
	small[0] = 0x1122334455667788ull;
	sel_start(e, IOVA + SMALL_OFF, IOVA + SMALL_OFF + 8, 8, 1, true);
	assert_int_equal(sel_wait(e), 0);
	assert_int_equal(small[1], small[0]);
	assert_int_equal(e->irqs[0], 1);
	assert_int_equal(e->irq_type, SIO_PCI_IRQ_MSIX);
	assert_int_equal(stats(e).irqs, 1);
	/* ATTNSTATUS and INTRCTRL's status say the channel wants service;
	 * reading ATTNSTATUS acknowledges. */
	assert_int_equal(rd(e, R_INTRCTRL, 1), INTRCTRL_MSIX | INTRCTRL_STATUS);
	assert_int_equal(rd(e, R_ATTNSTATUS, 4), 1);
	assert_int_equal(rd(e, R_ATTNSTATUS, 4), 0);
	assert_int_equal(rd(e, R_INTRCTRL, 1), INTRCTRL_MSIX);
	/* INT_REARM was consumed by the interrupt. */
	assert_int_equal(rd(e, R_CHANCTRL, 2), CTRL_ANY_ERR_ABORT);

	/* Disarmed: the completion waits for the re-arm, then fires. */
	*desc_at(e, 0) = (struct desc){ .size = 8, .ctl = D_INT_EN,
					.src = IOVA + SMALL_OFF,
					.dst = IOVA + SMALL_OFF + 16,
					.next = desc_iova(0) };
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(status(e), ST_DONE);
	assert_int_equal(e->irqs[0], 1);
	wr(e, R_CHANCTRL, 2, CTRL_INT_REARM);
	assert_int_equal(e->irqs[0], 2);
	assert_int_equal(rd(e, R_CHANCTRL, 2), 0);
	/* Re-arming with nothing pending raises nothing. */
	wr(e, R_CHANCTRL, 2, CTRL_INT_REARM);
	assert_int_equal(e->irqs[0], 2);

	/* Interrupts off in INTRCTRL: the vector stays quiet, ATTNSTATUS
	 * still records it. */
	wr(e, R_INTRCTRL, 1, 0);
	rd(e, R_ATTNSTATUS, 4);
	wr(e, R_DMACOUNT, 2, 2);
	assert_int_equal(e->irqs[0], 2);
	assert_int_equal(rd(e, R_INTRCTRL, 1), INTRCTRL_STATUS);
	/* Master enable (what ioatdma sets) delivers, and INT shows. */
	wr(e, R_INTRCTRL, 1, INTRCTRL_MASTER | INTRCTRL_MSIX);
	wr(e, R_CHANCTRL, 2, CTRL_INT_REARM);
	wr(e, R_DMACOUNT, 2, 3);
	assert_int_equal(e->irqs[0], 3);
	assert_int_equal(rd(e, R_INTRCTRL, 1),
			 INTRCTRL_MASTER | INTRCTRL_MSIX | INTRCTRL_STATUS |
				 INTRCTRL_INT);
	/* The read-only status bits ignore writes. */
	wr(e, R_INTRCTRL, 1, 0xff);
	rd(e, R_ATTNSTATUS, 4);
	assert_int_equal(rd(e, R_INTRCTRL, 1), INTRCTRL_MASTER | INTRCTRL_MSIX);

	/* The error interrupt, with ERR_INT_EN, needs no arm. */
	wr(e, R_CHANCTRL, 2, CTRL_ERR_INT);
	desc_at(e, 0)->dst = UNMAPPED;
	wr(e, R_DMACOUNT, 2, 4);
	assert_int_equal(status(e), ST_HALTED);
	assert_int_equal(e->irqs[0], 4);
	/* ...and without it, none. */
	sel_reset(e);
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(status(e), ST_HALTED);
	assert_int_equal(e->irqs[0], 4);

	/* INTx when the host enables that instead. */
	sel_reset(e);
	desc_at(e, 0)->dst = IOVA + SMALL_OFF + 16;
	t_cfg_wr(e->pdev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(sio_pci_irq_set_mode(e->pdev, SIO_PCI_IRQ_INTX, 1), 0);
	wr(e, R_INTRCTRL, 1, INTRCTRL_MASTER);
	wr(e, R_CHANCTRL, 2, CTRL_INT_REARM);
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(e->irqs[0], 5);
	assert_int_equal(e->irq_type, SIO_PCI_IRQ_INTX);
}

/* The channel meets a DMA it cannot do: HALTED, the CHANERR bit for
 * what failed, mirrored in CHANERR_INT, counted; it recovers after the
 * selftest's reset. */
static void fault_and_recover(void **state)
{
	struct env *e = *state;
	uint8_t *src = e->mem + SRC_OFF, *dst = e->mem + DST_OFF;
	struct sio_dma_fault last;
	uint64_t lib_faults = sio_pci_dev_dma_faults(e->pdev, NULL);

	/* Destination unmapped: a write data error. */
	fill(src, 4096, 2);
	sel_start(e, IOVA + SRC_OFF, UNMAPPED, 4096, 1, false);
	assert_int_equal(sel_wait(e), -1);
	assert_int_equal(rd(e, R_CHANSTS, 8), ST_HALTED);	/* none done */
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_WRITE_DATA);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERR_INT, 4), ERR_WRITE_DATA);
	assert_int_equal(stats(e).faults, 1);
	assert_int_equal(stats(e).last_fault.reason, SIO_FAULT_NOT_MAPPED);
	assert_int_equal(stats(e).last_fault.iova, UNMAPPED);
	assert_int_equal(sio_pci_dev_dma_faults(e->pdev, &last), lib_faults + 1);
	assert_int_equal(last.iova, UNMAPPED);
	assert_int_equal(stats(e).descs, 0);

	/* A halted channel with an error logged ignores the doorbell. */
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(stats(e).faults, 1);
	assert_int_equal(status(e), ST_HALTED);

	/* The selftest's recovery: clear errors, reset; then a good copy. */
	sel_reset(e);
	assert_int_equal(rd(e, R_CHANERR, 4), 0);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERR_INT, 4), 0);
	sel_start(e, IOVA + SRC_OFF, IOVA + DST_OFF, 4096, 1, false);
	assert_int_equal(sel_wait(e), 0);
	assert_memory_equal(dst, src, 4096);

	/* Source unmapped: a read data error, nothing written. */
	memset(dst, 0, 4096);
	sel_start(e, UNMAPPED, IOVA + DST_OFF, 4096, 1, false);
	assert_int_equal(sel_wait(e), -1);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_READ_DATA);
	assert_int_equal(dst[0], 0);
	assert_int_equal(stats(e).faults, 2);

	/* A read-only destination: a permission fault, a write error. */
	sel_reset(e);
	sel_start(e, IOVA + SRC_OFF, IOVA + RO_OFF, 64, 1, false);
	assert_int_equal(sel_wait(e), -1);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_WRITE_DATA);
	assert_int_equal(stats(e).last_fault.reason, SIO_FAULT_PERMISSION);
	/* ...while reading from it is fine. */
	sel_reset(e);
	sel_start(e, IOVA + RO_OFF, IOVA + DST_OFF, 64, 1, false);
	assert_int_equal(sel_wait(e), 0);

	/* A copy whose destination turns read-only part-way: the page that
	 * could be written was, the rest was not. */
	sel_reset(e);
	memset(e->mem + RO_OFF - 4096, 0, 8192);
	sel_start(e, IOVA + SRC_OFF, IOVA + RO_OFF - 4096, 2 * 4096, 1, false);
	assert_int_equal(sel_wait(e), -1);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_WRITE_DATA);
	assert_memory_equal(e->mem + RO_OFF - 4096, src, 4096);
	assert_int_equal(e->mem[RO_OFF], 0);
	assert_int_equal(stats(e).last_fault.iova, IOVA + RO_OFF);

	/* The descriptor itself unmapped: next descriptor address error,
	 * with the error completion and CDAR naming it. */
	sel_reset(e);
	wr(e, R_CHANCTRL, 2, CTRL_RUN);
	wr(e, R_CHANCMP, 8, IOVA + COMPL_OFF);
	wr(e, R_CHAINADDR, 8, UNMAPPED);
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(rd(e, R_CHANSTS, 8), ST_HALTED);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_NEXT_ADDR);
	assert_int_equal(rd(e, R_CDAR, 8), UNMAPPED);
	assert_int_equal(*(uint64_t *)(e->mem + COMPL_OFF), ST_HALTED);
	/* Clearing CHANERR (without a reset) and a new chain restart it, as
	 * ioatdma's error handler does. */
	wr(e, R_CHANERR, 4, ERR_NEXT_ADDR);
	t_cfg_wr(e->pdev, C_CHANERR_INT, 4, ERR_NEXT_ADDR);
	*desc_at(e, 0) = (struct desc){ .size = 1, .ctl = D_NULL | D_COMPL_WRITE,
					.next = desc_iova(1) };
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(0) | ST_DONE);
	assert_int_equal(*(uint64_t *)(e->mem + COMPL_OFF),
			 desc_iova(0) | ST_DONE);

	/* Misaligned CHAINADDR; misaligned next. */
	sel_reset(e);
	wr(e, R_CHAINADDR, 8, desc_iova(0) + 8);
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_CHAIN_ADDR);
	sel_reset(e);
	*desc_at(e, 0) = (struct desc){ .size = 1, .ctl = D_NULL,
					.next = desc_iova(1) + 32 };
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_DMACOUNT, 2, 2);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(0) | ST_HALTED);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_NEXT_ALIGN);

	/* CHANERRMASK_INT keeps a bit out of the config mirror only. */
	sel_reset(e);
	t_cfg_wr(e->pdev, C_CHANERRMSK, 4, ERR_NEXT_ALIGN);
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_DMACOUNT, 2, 2);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_NEXT_ALIGN);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERR_INT, 4), 0);
	sel_reset(e);
}

static void bus_master_off(void **state)
{
	struct env *e = *state;
	uint8_t *src = e->mem + SRC_OFF, *dst = e->mem + DST_OFF;

	fill(src, 4096, 4);
	t_cfg_wr(e->pdev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	sel_start(e, IOVA + SRC_OFF, IOVA + DST_OFF, 4096, 1, false);
	assert_int_equal(sel_wait(e), -1);
	/* The first DMA, the descriptor fetch, is refused. */
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_NEXT_ADDR);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERR_INT, 4), ERR_NEXT_ADDR);
	assert_int_equal(stats(e).faults, 1);
	assert_int_equal(stats(e).last_fault.reason, SIO_FAULT_BLOCKED);
	assert_int_equal(dst[0], 0);
	/* Bus mastering back on, reset: it works. */
	t_cfg_wr(e->pdev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	sel_reset(e);
	sel_start(e, IOVA + SRC_OFF, IOVA + DST_OFF, 4096, 1, false);
	assert_int_equal(sel_wait(e), 0);
	assert_memory_equal(dst, src, 4096);
}

static void w1c_and_read_only(void **state)
{
	struct env *e = *state;

	/* Make two errors: a length error, then (cleared CHANERR kept in
	 * config) a control error. */
	sel_start(e, IOVA + SRC_OFF, IOVA + DST_OFF, 0, 1, false);
	assert_int_equal(sel_wait(e), -1);
	wr(e, R_CHANERR, 4, ERR_LENGTH);
	desc_at(e, 0)->ctl = D_OP(0x87);
	desc_at(e, 0)->size = 64;
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_CONTROL);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERR_INT, 4), ERR_LENGTH | ERR_CONTROL);
	/* CHANERR_INT: writing 1 clears that bit only; 0 clears nothing. */
	t_cfg_wr(e->pdev, C_CHANERR_INT, 4, 0);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERR_INT, 4), ERR_LENGTH | ERR_CONTROL);
	t_cfg_wr(e->pdev, C_CHANERR_INT, 4, ERR_LENGTH);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERR_INT, 4), ERR_CONTROL);
	/* CHANERR likewise, byte-wide too. */
	wr(e, R_CHANERR, 4, ERR_LENGTH);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_CONTROL);
	wr(e, R_CHANERR + 1, 1, ERR_CONTROL >> 8);
	assert_int_equal(rd(e, R_CHANERR, 4), 0);
	/* DMAUNCERRSTS holds nothing and ones do not set it. */
	t_cfg_wr(e->pdev, C_DMAUNCERRSTS, 4, 0xffffffff);
	assert_int_equal(t_cfg_rd(e->pdev, C_DMAUNCERRSTS, 4), 0);
	/* CHANERRMASK_INT is read-write over the error bits. */
	t_cfg_wr(e->pdev, C_CHANERRMSK, 4, 0xffffffff);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERRMSK, 4), 0x7ffff);

	/* Read-only registers ignore writes. */
	wr(e, R_CHANCNT, 1, 9);
	wr(e, R_XFERCAP, 1, 12);
	wr(e, R_VER, 1, 0x12);
	wr(e, R_PERPORT, 2, 0x1234);
	wr(e, R_DMACAP, 4, 0xffffffff);
	wr(e, R_ATTNSTATUS, 4, 0xffffffff);
	assert_int_equal(rd(e, R_CHANCNT, 1), 1);
	assert_int_equal(rd(e, R_XFERCAP, 1), 20);
	assert_int_equal(rd(e, R_VER, 1), 0x33);
	assert_int_equal(rd(e, R_PERPORT, 2), 0x80);
	assert_int_equal(rd(e, R_DMACAP, 4), 0);
	assert_int_equal(rd(e, R_ATTNSTATUS, 4), 0);
	sel_reset(e);
	wr(e, R_CHANSTS, 8, ST_DONE | 0x1000);
	wr(e, R_CDAR, 8, 0x1000);
	assert_int_equal(rd(e, R_CHANSTS, 8), ST_HALTED);
	assert_int_equal(rd(e, R_CDAR, 8), 0);
	/* CHANCTRL: the completion-DCA bit (DCA is not there) stays 0. */
	wr(e, R_CHANCTRL, 2, 0xffff);
	assert_int_equal(rd(e, R_CHANCTRL, 2), 0xffff & ~0x0200 & ~0x0002 &
						       ~0x00c0 & ~0x0c00);
	/* Halves of the 64-bit registers read and write independently. */
	wr(e, R_CHAINADDR + 4, 4, 0x12);
	wr(e, R_CHAINADDR, 4, 0x345680);
	assert_int_equal(rd(e, R_CHAINADDR, 8), 0x1200345680ull);
	assert_int_equal(rd(e, R_CHAINADDR + 4, 4), 0x12);
	assert_int_equal(rd(e, R_CHANSTS + 4, 4), 0);
	/* Holes read 0 and ignore writes. */
	wr(e, CH + 0x40, 4, 0xffffffff);
	assert_int_equal(rd(e, CH + 0x40, 4), 0);
	assert_int_equal(rd(e, 0x100, 8), 0);
	assert_int_equal(rd(e, 0x1ff8, 8), 0);
}

static void unknown_opcode(void **state)
{
	struct env *e = *state;
	uint8_t *src = e->mem + SRC_OFF, *dst = e->mem + DST_OFF;
	static const uint8_t ops[] = { 0x01, 0x87, 0x89, 0xa0, 0xff };

	fill(src, 4096, 6);
	for (size_t i = 0; i < sizeof(ops); i++) {
		sel_reset(e);
		*desc_at(e, 0) = (struct desc){ .size = 4096,
						.ctl = D_OP(ops[i]),
						.src = IOVA + SRC_OFF,
						.dst = IOVA + DST_OFF,
						.next = desc_iova(0) };
		wr(e, R_CHAINADDR, 8, desc_iova(0));
		wr(e, R_CHANCTRL, 2, CTRL_INT_REARM | CTRL_ANY_ERR_ABORT);
		wr(e, R_DMACOUNT, 2, 1);
		assert_int_equal(sel_wait(e), -1);
		assert_int_equal(rd(e, R_CHANERR, 4), ERR_CONTROL);
		assert_int_equal(dst[0], 0);
	}
	/* Not a DMA fault: nothing counted. */
	assert_int_equal(stats(e).faults, 0);
}

/* ioatdma's chain handling: start, append, SUSPEND/RESUME, restarting
 * from SUSPENDED with a new chain, invalid commands, ABORT, FLR. */
static void commands_and_flr(void **state)
{
	struct env *e = *state;

	for (unsigned int i = 0; i < 8; i++)
		*desc_at(e, i) = (struct desc){ .size = 1, .ctl = D_NULL,
						.next = desc_iova((i + 1) % 8) };
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_DMACOUNT, 2, 2);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(1) | ST_DONE);
	/* Suspended, an append is recorded but waits for RESUME. */
	wr(e, R_CHANCMD, 1, CMD_SUSPEND);
	wr(e, R_DMACOUNT, 2, 4);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(1) | ST_SUSPENDED);
	wr(e, R_CHANCMD, 1, CMD_RESUME);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(3) | ST_DONE);
	/* APPEND with no new count: nothing to do, still DONE. */
	wr(e, R_CHANCMD, 1, CMD_APPEND);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(3) | ST_DONE);
	/* Suspended, a new chain and count start over from zero. */
	wr(e, R_CHANCMD, 1, CMD_SUSPEND);
	wr(e, R_CHAINADDR, 8, desc_iova(6));
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(6) | ST_DONE);
	/* Two commands at once: CHANCMD error, halted. */
	wr(e, R_CHANCMD, 1, CMD_SUSPEND | CMD_RESUME);
	assert_int_equal(status(e), ST_HALTED);
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_CHANCMD);
	sel_reset(e);
	/* ABORT halts without an error; a new start works. */
	wr(e, R_CHAINADDR, 8, desc_iova(0));
	wr(e, R_DMACOUNT, 2, 1);
	wr(e, R_CHANCMD, 1, CMD_ABORT);
	assert_int_equal(status(e), ST_HALTED);
	assert_int_equal(rd(e, R_CHANERR, 4), 0);
	wr(e, R_DMACOUNT, 2, 1);
	assert_int_equal(rd(e, R_CHANSTS, 8), desc_iova(0) | ST_DONE);

	/* Function-level reset: channel, device registers and the config
	 * mirrors back to power-on. */
	wr(e, R_CHANCMD, 1, 0x01);		/* START: not on version 3 */
	assert_int_equal(rd(e, R_CHANERR, 4), ERR_CHANCMD);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERR_INT, 4), ERR_CHANCMD);
	t_cfg_wr(e->pdev, C_CHANERRMSK, 4, 1);
	wr(e, R_CHANCMP, 8, 0x40);
	assert_int_equal(sio_pci_reset(e->pdev), 0);
	assert_int_equal(rd(e, R_CHANSTS, 8), ST_HALTED);
	assert_int_equal(rd(e, R_CHANERR, 4), 0);
	assert_int_equal(rd(e, R_CHANCMP, 8), 0);
	assert_int_equal(rd(e, R_INTRCTRL, 1), 0);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERR_INT, 4), 0);
	assert_int_equal(t_cfg_rd(e->pdev, C_CHANERRMSK, 4), 0);
	assert_int_equal(t_cfg_rd(e->pdev, PCI_VENDOR_ID, 2), 0x8086);
}

/* No thread behind the model: a forked child (as test harnesses fork
 * per case) drives the function on its own copy of everything. */
static void survives_fork(void **state)
{
	struct env *e = *state;
	uint8_t *src = e->mem + SRC_OFF, *dst = e->mem + DST_OFF;
	int wstatus;
	pid_t pid;

	fill(src, 8192, 8);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int ok;

		sel_start(e, IOVA + SRC_OFF, IOVA + DST_OFF, 8192, 1, true);
		ok = status(e) == ST_DONE && !memcmp(dst, src, 8192) &&
		     e->irqs[0] == 1;
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus));
	assert_int_equal(WEXITSTATUS(wstatus), 0);
	/* The parent's function and memory are untouched. */
	assert_int_equal(status(e), ST_HALTED);
	assert_int_equal(dst[0], 0);
	assert_int_equal(e->irqs[0], 0);
	sel_start(e, IOVA + SRC_OFF, IOVA + DST_OFF, 8192, 1, true);
	assert_int_equal(sel_wait(e), 0);
	assert_memory_equal(dst, src, 8192);
	assert_int_equal(e->irqs[0], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(identity, setup, teardown),
		cmocka_unit_test_setup_teardown(power_on_and_reset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(copy_4k, setup_init, teardown),
		cmocka_unit_test_setup_teardown(copy_1m, setup_init, teardown),
		cmocka_unit_test_setup_teardown(count_chain, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(completion_writeback,
						setup_init, teardown),
		cmocka_unit_test_setup_teardown(interrupts, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(fault_and_recover, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(bus_master_off, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(w1c_and_read_only, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(unknown_opcode, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(commands_and_flr, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(survives_fork, setup_init,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
