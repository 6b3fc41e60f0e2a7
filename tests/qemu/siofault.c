// SPDX-License-Identifier: GPL-2.0
/*
 * siofault: a guest kernel module that unmaps a DMA buffer from the guest's
 * IOMMU while the I/OAT channel is still copying into it.
 * scripts/qemu-passthrough.sh --fault builds it against the guest kernel
 * (like dmatest) and tests/qemu/init loads it.
 *
 * The guest runs with QEMU's intel-iommu (caching mode), so the DMA API
 * maps and unmaps of this module reach softiommu as VFIO_IOMMU_MAP_DMA and
 * VFIO_IOMMU_UNMAP_DMA on the host: unmapping the destination here really
 * removes it from the emulated IOMMU that the device model translates
 * through.
 *
 * One run:
 *  1. take a DMA_MEMCPY channel, allocate a source and a destination of
 *     size_kb KiB each and map them with the DMA API;
 *  2. queue `copies` memcpy descriptors, every one from the source into
 *     the destination, each with a completion callback that counts its
 *     result (done, read failed, write failed, aborted);
 *  3. a watcher thread on another CPU waits until the first copy has
 *     completed, checks that the last one has not, and unmaps the
 *     destination: the device is in the middle of the chain;
 *  4. the issuing CPU rings the doorbell (dma_async_issue_pending).  The
 *     I/OAT model runs its chain inside that register write, so that CPU is
 *     busy until the chain ends; the watcher is the one that unmaps;
 *  5. wait for every callback: ioatdma's error handler completes the
 *     faulting descriptor with DMA_TRANS_WRITE_FAILED (CHANERR's
 *     WRITE_DATA_ERR), aborts the rest and restarts the channel.
 * A run where the whole chain completed before the watcher could unmap
 * ("raced"), or while the unmap was on its way (every copy done, none
 * failed), is repeated with twice as many copies, up to `attempts` times.
 *
 * It prints one line, which tests/qemu/init reads:
 *   siofault: result=R copies=N size_kb=K dst_iova=I done_before_unmap=D done=A
 *             write_failed=W read_failed=F aborted=B other=O unmap_us=U
 *             attempts=T err=E
 * and, before it, each attempt's timing as the guest's clock saw it (from
 * the doorbell: when the watcher saw the first copy done and when the
 * doorbell's register write returned).
 *
 * Releasing the channel after a fault makes ioatdma 6.1 log "Freeing 1 in
 * use descriptors!": its error handler restarts the channel with a NULL
 * descriptor in the ring slot whose address it has just recorded as the
 * last completion, so that descriptor's own completion looks like no
 * progress and stays in the ring until the next transfer.  The same
 * happens on hardware.
 * R is fault (the unmap stopped the chain: a failed write or read and
 * fewer copies done than queued), raced (the last attempt's chain finished
 * before the unmap), nofault (the unmap came while the last attempt's
 * chain ran, yet every copy completed), or error.  The module stays loaded with no channel held, so that dmatest
 * can run on the channel afterwards and show it recovered.
 *
 * MODULE_LICENSE is GPL because the DMA engine client API is exported to
 * GPL modules only.
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/dmaengine.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/workqueue.h>

static unsigned int copies = 1024;
module_param(copies, uint, 0444);
MODULE_PARM_DESC(copies, "memcpy descriptors in the first attempt's chain");
static unsigned int size_kb = 1024;
module_param(size_kb, uint, 0444);
MODULE_PARM_DESC(size_kb, "size of the source and destination, KiB");
static unsigned int attempts = 3;
module_param(attempts, uint, 0444);
MODULE_PARM_DESC(attempts, "runs with a doubled chain when the chain won");
static unsigned int wait_ms = 30000;
module_param(wait_ms, uint, 0444);
MODULE_PARM_DESC(wait_ms, "how long to wait for the chain's callbacks");

struct siofault_run {
	struct dma_chan *chan;
	struct device *dev;
	dma_addr_t src, dst;
	size_t len;
	unsigned int n;
	dma_cookie_t first, last;

	/* set by the issuing CPU just before it rings the doorbell */
	int go;
	/* the watcher's findings */
	int unmapped;
	int raced;
	int timed_out;
	int done_before;
	s64 unmap_us;
	ktime_t t_go, t_first, t_issue0, t_issue1;
	unsigned long polls;
	struct completion watcher_done;

	atomic_t done, read_failed, write_failed, aborted, other;
	atomic_t pending;
	struct completion all_done;
};

static void siofault_callback(void *arg, const struct dmaengine_result *res)
{
	struct siofault_run *r = arg;

	switch (res->result) {
	case DMA_TRANS_NOERROR:
		atomic_inc(&r->done);
		break;
	case DMA_TRANS_READ_FAILED:
		atomic_inc(&r->read_failed);
		break;
	case DMA_TRANS_WRITE_FAILED:
		atomic_inc(&r->write_failed);
		break;
	case DMA_TRANS_ABORTED:
		atomic_inc(&r->aborted);
		break;
	default:
		atomic_inc(&r->other);
		break;
	}
	if (atomic_dec_and_test(&r->pending))
		complete(&r->all_done);
}

static int siofault_watch(void *arg)
{
	struct siofault_run *r = arg;
	unsigned long end;
	ktime_t t0;

	while (!READ_ONCE(r->go) && !kthread_should_stop())
		cond_resched();
	/* Polling the status runs ioatdma's cleanup on this CPU, which reads
	 * the completion the device wrote into memory: no register access. */
	r->t_go = ktime_get();
	end = jiffies + msecs_to_jiffies(wait_ms);
	while (dma_async_is_tx_complete(r->chan, r->first, NULL, NULL) !=
	       DMA_COMPLETE) {
		if (time_after(jiffies, end)) {
			r->timed_out = 1;
			goto out;
		}
		r->polls++;
		cond_resched();
	}
	r->t_first = ktime_get();
	if (dma_async_is_tx_complete(r->chan, r->last, NULL, NULL) ==
	    DMA_COMPLETE) {
		r->raced = 1;
		goto out;
	}
	r->done_before = atomic_read(&r->done);
	t0 = ktime_get();
	dma_unmap_page(r->dev, r->dst, r->len, DMA_FROM_DEVICE);
	r->unmap_us = ktime_us_delta(ktime_get(), t0);
	r->unmapped = 1;
out:
	complete(&r->watcher_done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ / 10);
	return 0;
}

static long siofault_issue(void *arg)
{
	struct siofault_run *r = arg;

	WRITE_ONCE(r->go, 1);
	r->t_issue0 = ktime_get();
	/* The doorbell: the device model works through the whole chain
	 * inside this register write. */
	dma_async_issue_pending(r->chan);
	r->t_issue1 = ktime_get();
	return 0;
}

/* Queue the chain: 0, or a negative errno with nothing queued. */
static int siofault_queue(struct siofault_run *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		struct dma_async_tx_descriptor *tx;
		unsigned long flags = i == r->n - 1 ? DMA_PREP_INTERRUPT : 0;
		dma_cookie_t c;

		tx = dmaengine_prep_dma_memcpy(r->chan, r->dst, r->src, r->len,
					       flags);
		if (!tx)
			return i ? -EIO : -ENOMEM;
		tx->callback_result = siofault_callback;
		tx->callback_param = r;
		atomic_inc(&r->pending);
		c = dmaengine_submit(tx);
		if (dma_submit_error(c)) {
			atomic_dec(&r->pending);
			return -EIO;
		}
		if (i == 0)
			r->first = c;
		r->last = c;
	}
	return 0;
}

static int siofault_once(struct dma_chan *chan, struct page *src,
			 struct page *dst, size_t len, unsigned int n,
			 struct siofault_run *r)
{
	struct task_struct *watcher;
	int issue_cpu, watch_cpu, err;

	memset(r, 0, sizeof(*r));
	r->chan = chan;
	r->dev = chan->device->dev;
	r->len = len;
	r->n = n;
	init_completion(&r->watcher_done);
	init_completion(&r->all_done);
	atomic_set(&r->pending, 1);	/* the queueing's own reference */

	issue_cpu = cpumask_first(cpu_online_mask);
	watch_cpu = cpumask_next(issue_cpu, cpu_online_mask);
	if (watch_cpu >= nr_cpu_ids) {
		pr_err("siofault: needs two online CPUs\n");
		return -ENODEV;
	}

	r->src = dma_map_page(r->dev, src, 0, len, DMA_TO_DEVICE);
	if (dma_mapping_error(r->dev, r->src))
		return -ENOMEM;
	r->dst = dma_map_page(r->dev, dst, 0, len, DMA_FROM_DEVICE);
	if (dma_mapping_error(r->dev, r->dst)) {
		dma_unmap_page(r->dev, r->src, len, DMA_TO_DEVICE);
		return -ENOMEM;
	}
	pr_info("siofault: %u copies of %zu KiB, src iova %pad dst iova %pad\n",
		n, len >> 10, &r->src, &r->dst);

	watcher = kthread_create_on_cpu(siofault_watch, r, watch_cpu,
					"siofault/%u");
	if (IS_ERR(watcher)) {
		err = PTR_ERR(watcher);
		goto unmap;
	}
	err = siofault_queue(r);
	wake_up_process(watcher);
	if (err) {
		/* Whatever was queued runs to completion (or not at all)
		 * with the destination still mapped. */
		WRITE_ONCE(r->go, 1);
		dma_async_issue_pending(chan);
	} else {
		work_on_cpu(issue_cpu, siofault_issue, r);
	}
	if (atomic_dec_and_test(&r->pending))
		complete(&r->all_done);
	wait_for_completion(&r->watcher_done);
	if (!wait_for_completion_timeout(&r->all_done,
					 msecs_to_jiffies(wait_ms))) {
		pr_err("siofault: %d callbacks still pending; stopping the channel\n",
		       atomic_read(&r->pending));
		dmaengine_terminate_sync(chan);
		r->timed_out = 1;
	}
	kthread_stop(watcher);
	pr_info("siofault: timing from the doorbell: watcher started %lld us, first copy done seen %lld us, doorbell returned %lld us, %lu polls\n",
		ktime_us_delta(r->t_go, r->t_issue0), ktime_us_delta(r->t_first, r->t_issue0),
		ktime_us_delta(r->t_issue1, r->t_issue0), r->polls);
unmap:
	if (!r->unmapped)
		dma_unmap_page(r->dev, r->dst, len, DMA_FROM_DEVICE);
	dma_unmap_page(r->dev, r->src, len, DMA_TO_DEVICE);
	return err;
}

static int __init siofault_init(void)
{
	struct siofault_run *r;
	struct dma_chan *chan;
	struct page *src, *dst;
	dma_cap_mask_t mask;
	unsigned int order, n = copies, t;
	const char *result = "error";
	size_t len;
	int err = 0;

	if (!size_kb || size_kb > 4096 || !copies || !attempts)
		return -EINVAL;
	len = (size_t)size_kb << 10;
	order = get_order(len);

	dma_cap_zero(mask);
	dma_cap_set(DMA_MEMCPY, mask);
	chan = dma_request_chan_by_mask(&mask);
	if (IS_ERR(chan)) {
		pr_err("siofault: no memcpy channel (%ld)\n", PTR_ERR(chan));
		pr_info("siofault: result=error\n");
		return 0;
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	src = alloc_pages(GFP_KERNEL, order);
	dst = alloc_pages(GFP_KERNEL, order);
	if (!r || !src || !dst) {
		err = -ENOMEM;
		goto out;
	}
	memset(page_address(src), 0x5a, len);
	memset(page_address(dst), 0, len);
	pr_info("siofault: channel %s on %s\n", dma_chan_name(chan),
		dev_name(chan->device->dev));

	for (t = 1; t <= attempts; t++, n *= 2) {
		if (n > 32768)
			n = 32768;
		err = siofault_once(chan, src, dst, len, n, r);
		if (err || r->timed_out)
			break;
		if (r->raced) {
			pr_info("siofault: attempt %u: the chain of %u finished before the unmap\n",
				t, n);
			continue;
		}
		/* Every copy done and none failed: the chain ended while the
		 * unmap was on its way (or the unmap did not stop it, which
		 * longer chains tell apart: they leave the unmap ever more
		 * time). */
		if (atomic_read(&r->done) == (int)r->n &&
		    !atomic_read(&r->write_failed) &&
		    !atomic_read(&r->read_failed)) {
			pr_info("siofault: attempt %u: all %u copies completed around the unmap\n",
				t, n);
			continue;
		}
		break;
	}
	if (t > attempts)
		t = attempts;
	if (err || r->timed_out)
		result = "error";
	else if (r->raced)
		result = "raced";
	else if ((atomic_read(&r->write_failed) || atomic_read(&r->read_failed)) &&
		 atomic_read(&r->done) < (int)r->n)
		result = "fault";
	else
		result = "nofault";
	pr_info("siofault: result=%s copies=%u size_kb=%u dst_iova=%pad done_before_unmap=%d done=%d write_failed=%d read_failed=%d aborted=%d other=%d unmap_us=%lld attempts=%u err=%d\n",
		result, r->n, size_kb, &r->dst, r->done_before,
		atomic_read(&r->done),
		atomic_read(&r->write_failed), atomic_read(&r->read_failed),
		atomic_read(&r->aborted), atomic_read(&r->other),
		(long long)r->unmap_us, t, err);
out:
	if (!r || !src || !dst)
		pr_info("siofault: result=error err=%d\n", err);
	if (dst)
		__free_pages(dst, order);
	if (src)
		__free_pages(src, order);
	kfree(r);
	dma_release_channel(chan);
	return 0;
}

static void __exit siofault_exit(void)
{
}

module_init(siofault_init);
module_exit(siofault_exit);
MODULE_DESCRIPTION("unmap a DMA destination while the channel copies into it");
MODULE_LICENSE("GPL");
