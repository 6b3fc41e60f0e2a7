/*
 * The I/OAT (Crystal Beach DMA, version 3.3) hardware interface as the
 * model implements it: PCI identity, device-specific config registers,
 * the BAR0 register map (device block at 0x00, the channel's block at
 * 0x80), and the 64-byte descriptor.
 *
 * Offsets and bit positions are those the Linux ioatdma driver and the
 * VFIO selftest driver program (drivers/dma/ioat/registers.h and hw.h);
 * the names are ours.  Only what the model implements or must reject is
 * listed.
 */
#ifndef SIO_MODELS_IOAT_REGS_H
#define SIO_MODELS_IOAT_REGS_H

#include <stdint.h>

/* PCI identity: a Skylake-SP CBDMA function (one channel per function). */
#define IOAT_PCI_VENDOR		0x8086
#define IOAT_PCI_DEVICE_SKX	0x2021
#define IOAT_PCI_SUBSYS_VENDOR	0x8086
#define IOAT_PCI_SUBSYS		0x0000
#define IOAT_PCI_CLASS		0x088000	/* system peripheral, other */
#define IOAT_PCI_REVISION	0x04

/* BAR0: 16 KiB, 64-bit, registers at the bottom, MSI-X above them. */
#define IOAT_BAR0_SIZE		0x4000
#define IOAT_MSIX_TABLE		0x2000
#define IOAT_MSIX_PBA		0x3000
#define IOAT_MSIX_VECTORS	1		/* one per channel */

/* Device-specific config registers. */
#define IOAT_CFG_DMACTRL	0x48		/* 32-bit, RW */
#define  IOAT_DMACTRL_DMA_EN	 0x1
#define  IOAT_DMACTRL_MSI_EN	 0x2
#define IOAT_CFG_DMAUNCERRSTS	0x148		/* 32-bit, RW1C */
#define IOAT_CFG_CHANERR_INT	0x180		/* 32-bit, RW1C, mirrors CHANERR */
#define IOAT_CFG_CHANERRMSK_INT	0x184		/* 32-bit, RW */

/* Device registers (BAR0 offsets) and their widths in bytes. */
#define IOAT_REG_CHANCNT	0x00	/* 1, RO */
#define IOAT_REG_XFERCAP	0x01	/* 1, RO: log2 of the largest transfer */
#define IOAT_REG_GENCTRL	0x02	/* 1 */
#define IOAT_REG_INTRCTRL	0x03	/* 1 */
#define IOAT_REG_ATTNSTATUS	0x04	/* 4, RO, cleared by a read */
#define IOAT_REG_VER		0x08	/* 1, RO */
#define IOAT_REG_PERPORTOFFSET	0x0a	/* 2, RO */
#define IOAT_REG_INTRDELAY	0x0c	/* 2 */
#define IOAT_REG_DEVSTS		0x0e	/* 2, RO */
#define IOAT_REG_DMACAP		0x10	/* 4, RO */
#define IOAT_REG_DCAOFFSET	0x14	/* 2, RO: 0, no DCA block */

#define IOAT_CHANCNT		1
#define IOAT_XFERCAP_LOG2	20	/* 1 MiB per descriptor */
#define IOAT_VERSION		0x33
#define IOAT_GENCTRL_DEBUG_EN	0x01
#define IOAT_INTRDELAY_MASK	0x3fff

enum ioat_intrctrl {
	IOAT_INTRCTRL_MASTER_EN = 1u << 0,
	IOAT_INTRCTRL_STATUS = 1u << 1,		/* RO: ATTNSTATUS != 0 */
	IOAT_INTRCTRL_INT = 1u << 2,		/* RO: STATUS and MASTER_EN */
	IOAT_INTRCTRL_MSIX_VECCTL = 1u << 3,	/* per-channel MSI-X vectors */
};

/* The channel's block: BAR0 + IOAT_CHAN_BASE, IOAT_CHAN_SIZE bytes. */
#define IOAT_CHAN_BASE		0x80
#define IOAT_CHAN_SIZE		0x80
#define IOAT_CH_CHANCTRL	0x00	/* 2 */
#define IOAT_CH_CHANCMD		0x04	/* 1 */
#define IOAT_CH_DMACOUNT	0x06	/* 2: the doorbell */
#define IOAT_CH_CHANSTS		0x08	/* 8, RO */
#define IOAT_CH_CHAINADDR	0x10	/* 8, or two 4-byte halves */
#define IOAT_CH_CHANCMP		0x18	/* 8, or two 4-byte halves */
#define IOAT_CH_CDAR		0x20	/* 8, RO: current descriptor */
#define IOAT_CH_CHANERR		0x28	/* 4, RW1C */
#define IOAT_CH_CHANERR_MASK	0x2c	/* 4 */
#define IOAT_CH_DCACTRL		0x30	/* 4 */

enum ioat_chanctrl {
	IOAT_CHANCTRL_INT_REARM = 1u << 0,
	IOAT_CHANCTRL_ERR_COMPL_EN = 1u << 2,
	IOAT_CHANCTRL_ANY_ERR_ABORT = 1u << 3,
	IOAT_CHANCTRL_ERR_INT_EN = 1u << 4,
	IOAT_CHANCTRL_DESC_SNOOP = 1u << 5,
	IOAT_CHANCTRL_IN_USE = 1u << 8,
	IOAT_CHANCTRL_PRIO = 0xfu << 12,
};
/* What a write may change: everything above but the completion DCA bit
 * (bit 9), which stays 0 because DCA is not modelled. */
#define IOAT_CHANCTRL_WMASK						\
	(IOAT_CHANCTRL_INT_REARM | IOAT_CHANCTRL_ERR_COMPL_EN |		\
	 IOAT_CHANCTRL_ANY_ERR_ABORT | IOAT_CHANCTRL_ERR_INT_EN |	\
	 IOAT_CHANCTRL_DESC_SNOOP | IOAT_CHANCTRL_IN_USE |		\
	 IOAT_CHANCTRL_PRIO)

enum ioat_chancmd {
	IOAT_CMD_START = 1u << 0,	/* version 1 only */
	IOAT_CMD_APPEND = 1u << 1,
	IOAT_CMD_SUSPEND = 1u << 2,
	IOAT_CMD_ABORT = 1u << 3,
	IOAT_CMD_RESUME = 1u << 4,
	IOAT_CMD_RESET = 1u << 5,
};

/* CHANSTS: status in bits 2:0, the completed descriptor's address in
 * bits 63:6 (descriptors are 64-byte aligned). */
#define IOAT_CHANSTS_STATUS	0x7ull
#define IOAT_CHANSTS_ADDR	(~0x3full)
enum ioat_chan_state {
	IOAT_ST_ACTIVE = 0,
	IOAT_ST_DONE = 1,
	IOAT_ST_SUSPENDED = 2,
	IOAT_ST_HALTED = 3,
};

enum ioat_chanerr {
	IOAT_ERR_SRC_ADDR = 1u << 0,
	IOAT_ERR_DEST_ADDR = 1u << 1,
	IOAT_ERR_NEXT_ADDR = 1u << 2,		/* descriptor fetch failed */
	IOAT_ERR_NEXT_ALIGN = 1u << 3,		/* next not 64-byte aligned */
	IOAT_ERR_CHAIN_ADDR = 1u << 4,		/* CHAINADDR not aligned */
	IOAT_ERR_CHANCMD = 1u << 5,		/* invalid command */
	IOAT_ERR_READ_DATA = 1u << 8,		/* a data read failed */
	IOAT_ERR_WRITE_DATA = 1u << 9,		/* a data write failed */
	IOAT_ERR_CONTROL = 1u << 10,		/* unsupported operation */
	IOAT_ERR_LENGTH = 1u << 11,		/* size 0 or above XFERCAP */
	IOAT_ERR_COMPL_ADDR = 1u << 12,		/* completion write failed */
};
/* Bits CHANERR, CHANERR_MASK and the config mirrors hold. */
#define IOAT_CHANERR_ALL	0x7ffffu

#define IOAT_DCACTRL_WMASK	0x1ffffu	/* target APIC ID, write enable */

/*
 * The descriptor: 64 bytes, 64-byte aligned, little endian.  Only the
 * first 32 bytes mean something to a copy; the rest is the driver's.
 */
#define IOAT_DESC_SIZE		64
#define IOAT_DESC_SIZE_OFF	0x00	/* 32-bit transfer size */
#define IOAT_DESC_CTL_OFF	0x04	/* 32-bit control */
#define IOAT_DESC_SRC_OFF	0x08
#define IOAT_DESC_DST_OFF	0x10
#define IOAT_DESC_NEXT_OFF	0x18

enum ioat_desc_ctl {
	IOAT_CTL_INT_EN = 1u << 0,
	IOAT_CTL_SRC_SNOOP_DIS = 1u << 1,
	IOAT_CTL_DST_SNOOP_DIS = 1u << 2,
	IOAT_CTL_COMPL_WRITE = 1u << 3,
	IOAT_CTL_FENCE = 1u << 4,
	IOAT_CTL_NULL = 1u << 5,
};
#define IOAT_CTL_OP_SHIFT	24
#define IOAT_OP_COPY		0x00

#endif
