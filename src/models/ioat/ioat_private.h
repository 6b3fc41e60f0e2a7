/*
 * The I/OAT model's state, shared by the function (ioat.c: identity,
 * device registers, register dispatch, interrupts) and the channel
 * (channel.c: channel registers, the state machine, descriptors).
 *
 * All of it is protected by the PCI function's lock (softiommu/pci.h):
 * the library runs every op under it, so the model has no lock of its own
 * and nothing here is touched outside an op, except by
 * ioat_stats_get(), which takes the function's lock itself.
 */
#ifndef SIO_MODELS_IOAT_PRIVATE_H
#define SIO_MODELS_IOAT_PRIVATE_H

#include "softiommu/dma.h"
#include "softiommu/ioat.h"
#include "softiommu/pci.h"
#include "models/ioat/ioat_regs.h"

/* Copies move through this much of the model's own buffer at a time: no
 * allocation and no large stack frame in the path a signal handler may
 * run. */
#define IOAT_BOUNCE_SIZE	(64u * 1024)

struct ioat_chan {
	enum ioat_chan_state state;
	uint16_t chanctrl;
	uint16_t dmacount;	/* DMACOUNT as last written */
	uint16_t done;		/* descriptors completed since the chain began */
	uint64_t chainaddr;
	uint64_t chancmp;
	uint64_t completed;	/* CHANSTS address: last completed descriptor */
	uint64_t cur;		/* next descriptor to fetch (CDAR) */
	uint32_t chanerr;
	uint32_t chanerr_mask;
	uint32_t dcactrl;
	/* The next start begins at CHAINADDR with the count at zero: set by
	 * a CHAINADDR write and whenever the channel halts. */
	bool rewind;
	/* The descriptor at cur is the first of the chain (for telling a bad
	 * CHAINADDR from a bad next pointer). */
	bool at_start;
	/* A descriptor asked for an interrupt while INT_REARM was clear; it
	 * is raised when software re-arms. */
	bool int_pending;
};

/* What the model saw: for tests and tools. */
struct ioat_stats {
	uint64_t faults;	/* DMAs that failed (each halts the channel) */
	uint64_t descs;		/* descriptors completed */
	uint64_t bytes;		/* bytes copied */
	uint64_t irqs;		/* interrupts the channel signalled */
	struct sio_dma_fault last_fault;
};

struct ioat {
	struct sio_pci_dev *pdev;
	uint8_t genctrl;
	uint8_t intrctrl;	/* MASTER_EN and MSIX_VECCTL as written */
	uint32_t attnstatus;
	uint16_t intrdelay;
	struct ioat_chan chan;
	struct ioat_stats stats;
	uint8_t bounce[IOAT_BOUNCE_SIZE];
};

/* ioat.c: the channel signals its interrupt (completion or error). */
void ioat_signal(struct ioat *s);

/* channel.c: the channel's registers at off within its block. */
void ioat_chan_reset(struct ioat *s);
uint64_t ioat_chan_read(struct ioat *s, unsigned int off);
/* mask: the bits of the register the access wrote. */
void ioat_chan_write(struct ioat *s, unsigned int off, uint64_t val,
		     uint64_t mask);

/* The model's counters of an I/OAT function (host side: takes the
 * function's lock); -EINVAL if pdev is not an I/OAT function. */
int ioat_stats_get(struct sio_pci_dev *pdev, struct ioat_stats *out);

#endif
