/*
 * The I/OAT channel: its registers, its state machine and the descriptor
 * engine.
 *
 * States are those CHANSTS reports: HALTED at power-on, after a reset and
 * after an error; ACTIVE while it works through descriptors; DONE (idle)
 * once it has completed as many descriptors as DMACOUNT says; SUSPENDED on
 * SUSPEND.  DMACOUNT is a 16-bit running count that wraps: the driver
 * writes the number of descriptors it has appended since the chain began,
 * and the channel follows `next` pointers (the first descriptor being at
 * CHAINADDR) until its own count of completed descriptors equals it.  A
 * write of CHAINADDR, and every halt, makes the next start begin at
 * CHAINADDR with the count at zero, which is how both drivers restart a
 * chain after a suspend, a reset or an error.
 *
 * Execution is synchronous: the write that rings the doorbell (DMACOUNT,
 * or CHANCMD RESUME/APPEND) runs the chain to its end on the calling
 * thread before it returns, so a driver polling CHANSTS sees DONE or
 * HALTED at its first read, and ACTIVE only from inside the chain (a
 * completion written before the last descriptor).  No thread: a device
 * model must survive fork(), and the caller may be the MMIO trap of the
 * program's own thread, so the path allocates nothing, prints nothing and
 * copies through the model's fixed bounce buffer.
 *
 * Every DMA (descriptor fetch, data, completion) goes through
 * sio_pci_dma_read/write as the function, without PASID.  A DMA that fails
 * (a translation fault, Bus Master Enable off) ends the chain as the
 * hardware ends it: the CHANERR bit for what failed, mirrored into
 * CHANERR_INT in config space, the channel HALTED with CHANSTS still
 * naming the last descriptor that completed, the completion written with
 * the halt if CHANCTRL asks for it, and the error interrupt if enabled.
 */
#include <endian.h>
#include <string.h>

#include "models/ioat/ioat_private.h"

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static uint64_t chansts(const struct ioat_chan *c)
{
	return (c->completed & IOAT_CHANSTS_ADDR) | (uint64_t)c->state;
}

static void note_fault(struct ioat *s, const struct sio_dma_fault *f)
{
	s->stats.faults++;
	s->stats.last_fault = *f;
}

/* Log errors in CHANERR and, unless masked there, in CHANERR_INT. */
static void log_errors(struct ioat *s, uint32_t err)
{
	uint32_t mirror, mask;

	s->chan.chanerr |= err;
	mirror = sio_pci_model_config_get(s->pdev, IOAT_CFG_CHANERR_INT, 4);
	mask = sio_pci_model_config_get(s->pdev, IOAT_CFG_CHANERRMSK_INT, 4);
	sio_pci_model_config_set(s->pdev, IOAT_CFG_CHANERR_INT, 4,
				 mirror | (err & ~mask));
}

/* Write what CHANSTS reads now to the completion address: 0, or -1 when
 * the write failed. */
static int write_completion(struct ioat *s)
{
	struct sio_dma_fault f = { 0 };
	uint64_t v = htole64(chansts(&s->chan));

	if (sio_pci_dma_write(s->pdev, SIO_NO_PASID, s->chan.chancmp, &v,
			      sizeof(v), &f)) {
		note_fault(s, &f);
		return -1;
	}
	return 0;
}

static void halt(struct ioat *s, uint32_t err)
{
	struct ioat_chan *c = &s->chan;

	log_errors(s, err);
	c->state = IOAT_ST_HALTED;
	c->rewind = true;
	if ((c->chanctrl & IOAT_CHANCTRL_ERR_COMPL_EN) &&
	    !(err & IOAT_ERR_COMPL_ADDR) && write_completion(s))
		log_errors(s, IOAT_ERR_COMPL_ADDR);
	if (c->chanctrl & IOAT_CHANCTRL_ERR_INT_EN)
		ioat_signal(s);
}

/*
 * A descriptor asked for an interrupt.  INT_REARM is the arm: the channel
 * interrupts once and clears it, and the driver re-arms after servicing
 * (Linux from its cleanup tasklet, the selftest before each start).  A
 * request while disarmed waits for the re-arm, so no completion goes
 * unannounced.
 */
static void completion_irq(struct ioat *s)
{
	struct ioat_chan *c = &s->chan;

	if (c->chanctrl & IOAT_CHANCTRL_INT_REARM) {
		c->chanctrl &= (uint16_t)~IOAT_CHANCTRL_INT_REARM;
		ioat_signal(s);
	} else {
		c->int_pending = true;
	}
}

/* Copy len bytes through the bounce buffer: 0 or the CHANERR bit. */
static uint32_t copy(struct ioat *s, uint64_t src, uint64_t dst, uint32_t len)
{
	struct sio_dma_fault f;

	while (len) {
		uint32_t n = len < IOAT_BOUNCE_SIZE ? len : IOAT_BOUNCE_SIZE;

		memset(&f, 0, sizeof(f));
		if (sio_pci_dma_read(s->pdev, SIO_NO_PASID, src, s->bounce, n,
				     &f)) {
			note_fault(s, &f);
			return IOAT_ERR_READ_DATA;
		}
		if (sio_pci_dma_write(s->pdev, SIO_NO_PASID, dst, s->bounce, n,
				      &f)) {
			note_fault(s, &f);
			return IOAT_ERR_WRITE_DATA;
		}
		s->stats.bytes += n;
		src += n;
		dst += n;
		len -= n;
	}
	return 0;
}

/* Run the descriptor at cur: 0 when it completed, else CHANERR bits. */
static uint32_t run_one(struct ioat *s)
{
	struct ioat_chan *c = &s->chan;
	uint8_t d[IOAT_DESC_SIZE];
	struct sio_dma_fault f = { 0 };
	uint32_t size, ctl, err;

	if (c->cur & (IOAT_DESC_SIZE - 1))
		return c->at_start ? IOAT_ERR_CHAIN_ADDR : IOAT_ERR_NEXT_ALIGN;
	if (sio_pci_dma_read(s->pdev, SIO_NO_PASID, c->cur, d, sizeof(d), &f)) {
		note_fault(s, &f);
		return IOAT_ERR_NEXT_ADDR;
	}
	size = get32(d + IOAT_DESC_SIZE_OFF);
	ctl = get32(d + IOAT_DESC_CTL_OFF);
	if ((ctl >> IOAT_CTL_OP_SHIFT) != IOAT_OP_COPY)
		return IOAT_ERR_CONTROL;
	/* A NULL descriptor moves nothing (Linux gives it size 1 and
	 * addresses 0); it completes, writes back and interrupts. */
	if (!(ctl & IOAT_CTL_NULL)) {
		if (size == 0 || size > (1u << IOAT_XFERCAP_LOG2))
			return IOAT_ERR_LENGTH;
		err = copy(s, get64(d + IOAT_DESC_SRC_OFF),
			   get64(d + IOAT_DESC_DST_OFF), size);
		if (err)
			return err;
	}
	c->done++;
	c->completed = c->cur;
	c->cur = get64(d + IOAT_DESC_NEXT_OFF);
	c->at_start = false;
	s->stats.descs++;
	if (ctl & IOAT_CTL_COMPL_WRITE) {
		/* The status written is the one after this descriptor. */
		c->state = c->done == c->dmacount ? IOAT_ST_DONE :
						    IOAT_ST_ACTIVE;
		if (write_completion(s))
			return IOAT_ERR_COMPL_ADDR;
	}
	if (ctl & IOAT_CTL_INT_EN)
		completion_irq(s);
	return 0;
}

static void run(struct ioat *s)
{
	struct ioat_chan *c = &s->chan;

	while (c->done != c->dmacount) {
		uint32_t err;

		c->state = IOAT_ST_ACTIVE;
		err = run_one(s);
		if (err) {
			halt(s, err);
			return;
		}
	}
	c->state = IOAT_ST_DONE;
}

/* Work may have been appended (DMACOUNT, APPEND) or the channel resumed. */
static void start(struct ioat *s, bool resume)
{
	struct ioat_chan *c = &s->chan;

	switch (c->state) {
	case IOAT_ST_HALTED:
		/* Errors must be cleared (CHANERR) or the channel reset. */
		if (c->chanerr || resume)
			return;
		break;
	case IOAT_ST_SUSPENDED:
		/* A suspended channel starts again with RESUME, or with a
		 * new chain (CHAINADDR, then DMACOUNT). */
		if (!resume && !c->rewind)
			return;
		break;
	default:
		break;
	}
	if (c->rewind) {
		c->rewind = false;
		c->cur = c->chainaddr;
		c->done = 0;
		c->at_start = true;
	}
	if (c->done != c->dmacount)
		run(s);
	else if (c->state == IOAT_ST_SUSPENDED)
		c->state = IOAT_ST_DONE;
}

static void command(struct ioat *s, uint8_t cmd)
{
	struct ioat_chan *c = &s->chan;

	cmd &= 0x3f;
	if (!cmd)
		return;
	if (cmd & (cmd - 1)) {		/* one command at a time */
		halt(s, IOAT_ERR_CHANCMD);
		return;
	}
	switch (cmd) {
	case IOAT_CMD_RESET:
		/* Completes at once: the RESET bit reads back clear. */
		ioat_chan_reset(s);
		break;
	case IOAT_CMD_SUSPEND:
		if (c->state == IOAT_ST_ACTIVE || c->state == IOAT_ST_DONE)
			c->state = IOAT_ST_SUSPENDED;
		break;
	case IOAT_CMD_RESUME:
		if (c->state == IOAT_ST_SUSPENDED)
			start(s, true);
		break;
	case IOAT_CMD_APPEND:
		start(s, false);
		break;
	case IOAT_CMD_ABORT:
		c->state = IOAT_ST_HALTED;
		c->rewind = true;
		break;
	default:
		/* START belongs to version 1 channels. */
		halt(s, IOAT_ERR_CHANCMD);
		break;
	}
}

void ioat_chan_reset(struct ioat *s)
{
	struct ioat_chan *c = &s->chan;

	memset(c, 0, sizeof(*c));
	c->state = IOAT_ST_HALTED;
	c->rewind = true;
}

uint64_t ioat_chan_read(struct ioat *s, unsigned int off)
{
	const struct ioat_chan *c = &s->chan;

	switch (off) {
	case IOAT_CH_CHANCTRL:
		return c->chanctrl;
	case IOAT_CH_DMACOUNT:
		return c->dmacount;
	case IOAT_CH_CHANSTS:
		return chansts(c);
	case IOAT_CH_CHAINADDR:
		return c->chainaddr;
	case IOAT_CH_CHANCMP:
		return c->chancmp;
	case IOAT_CH_CDAR:
		return c->cur;
	case IOAT_CH_CHANERR:
		return c->chanerr;
	case IOAT_CH_CHANERR_MASK:
		return c->chanerr_mask;
	case IOAT_CH_DCACTRL:
		return c->dcactrl;
	default:	/* CHANCMD: every command has completed */
		return 0;
	}
}

static uint64_t merge(uint64_t old, uint64_t val, uint64_t mask)
{
	return (old & ~mask) | (val & mask);
}

void ioat_chan_write(struct ioat *s, unsigned int off, uint64_t val,
		     uint64_t mask)
{
	struct ioat_chan *c = &s->chan;

	switch (off) {
	case IOAT_CH_CHANCTRL:
		c->chanctrl = (uint16_t)merge(c->chanctrl, val,
					      mask & IOAT_CHANCTRL_WMASK);
		if ((c->chanctrl & IOAT_CHANCTRL_INT_REARM) && c->int_pending) {
			c->int_pending = false;
			completion_irq(s);
		}
		break;
	case IOAT_CH_CHANCMD:
		command(s, (uint8_t)(val & mask));
		break;
	case IOAT_CH_DMACOUNT:
		c->dmacount = (uint16_t)merge(c->dmacount, val, mask);
		start(s, false);
		break;
	case IOAT_CH_CHAINADDR:
		c->chainaddr = merge(c->chainaddr, val, mask);
		c->rewind = true;
		break;
	case IOAT_CH_CHANCMP:
		c->chancmp = merge(c->chancmp, val, mask);
		break;
	case IOAT_CH_CHANERR:
		c->chanerr &= (uint32_t)~(val & mask);
		break;
	case IOAT_CH_CHANERR_MASK:
		c->chanerr_mask = (uint32_t)merge(c->chanerr_mask, val,
						  mask & IOAT_CHANERR_ALL);
		break;
	case IOAT_CH_DCACTRL:
		c->dcactrl = (uint32_t)merge(c->dcactrl, val,
					     mask & IOAT_DCACTRL_WMASK);
		break;
	default:	/* CHANSTS, CDAR: read-only */
		break;
	}
}
