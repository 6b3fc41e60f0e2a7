/*
 * I/O page faults: page requests from devices and their responses (the
 * kernel's io-pgfault.c and PCIe PRI).
 *
 * A device that can wait for a missing page (PRI) asks for it with a page
 * request: device, PASID (or SIO_NO_PASID), address, access and a group ID.
 * Requests that are not the last of their group are kept per device; the
 * last one completes the group, which goes to the handler of the domain
 * attached at (device, PASID), found through the attach handle there.  The
 * handler answers the whole group once (success: retry the access;
 * invalid: do not retry; failure: stop asking), and the answer reaches the
 * device model through the ops it gave when it enabled page requests.
 *
 * Exactly one response per group, whatever happens:
 *  - no handler there (nothing attached, attached without a handle, or a
 *    domain that cannot take faults): INVALID at once;
 *  - the device's limit of outstanding groups is reached, or the handler
 *    refuses the group: FAILURE at once (as the kernel aborts a group it
 *    cannot queue);
 *  - the attachment goes away (detach, or replace by another handle):
 *    every group dispatched to that attach handle and not answered yet is
 *    answered INVALID before the detach or replace returns, and only those:
 *    detaching the RID never answers a PASID's groups, nor the reverse;
 *  - page requests are disabled on the device: everything it still has is
 *    answered INVALID first.
 * A late answer to a group answered already is refused with -EALREADY and
 * never reaches the device.
 *
 * Handlers: a domain becomes fault-capable when its user gives it a handler
 * (sio_domain_set_iopf_handler) before its first attach.  The user embeds
 * struct sio_iopf_handler in its own structure and gets back to it with
 * sio_container_of(), as with attach handles.  The SVA layer's handler
 * resolves through the address space; iommufd's queues to a fault fd.
 *
 * The device data path raises requests by itself: a translation that fails
 * (not mapped, or not allowed) on a fault-capable domain, on a device with
 * page requests enabled, sends a one-page, last-in-group request and
 * returns -EAGAIN: retry the DMA when the response says SUCCESS.
 */
#ifndef SOFTIOMMU_IOPF_H
#define SOFTIOMMU_IOPF_H

#include "softiommu/attach.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Request flags. */
enum {
	SIO_PRQ_LAST = 1u << 0,		/* the last request of its group */
};

/* One page request.  perm uses the SIO_DMA_* bits of dma.h (read, write,
 * exec, privileged), which are those of iommufd's IOMMU_PGFAULT_PERM_*. */
struct sio_page_request {
	sio_pasid_t pasid;	/* SIO_NO_PASID: the request has no PASID */
	uint32_t grpid;		/* page request group ID */
	uint32_t perm;		/* SIO_DMA_READ | SIO_DMA_WRITE | ... */
	uint32_t flags;		/* SIO_PRQ_* */
	uint64_t addr;		/* the address that faulted */
};

/* Response codes: the values of the kernel's IOMMU_PAGE_RESP_*. */
enum sio_page_response_code {
	SIO_PAGE_RESP_SUCCESS = 0,	/* the page is there: retry */
	SIO_PAGE_RESP_INVALID = 1,	/* it will not be: do not retry */
	SIO_PAGE_RESP_FAILURE = 2,	/* catastrophic: stop page requests */
};

/* What the device model receives: the group's last request and the code. */
struct sio_page_response {
	sio_pasid_t pasid;
	uint32_t grpid;
	uint64_t addr;		/* of the group's last request */
	enum sio_page_response_code code;
};

struct sio_iopf_device_ops {
	/* The response to one group.  Runs on whichever thread answered (the
	 * handler's, a detaching thread's, or the reporting one when a group
	 * is refused at once) with the device's fault lock held: it must not
	 * call back into the page-fault layer or attach/detach for dev. */
	void (*page_response)(struct sio_device *dev, void *arg,
			      const struct sio_page_response *resp);
	/*
	 * Optional: wake the model's thread that waits for responses.  Runs
	 * on the thread that delivered one or more page_response calls, right
	 * after it dropped the device's fault lock.  A thread woken from
	 * page_response itself would find that lock still held when it sends
	 * its next request, and sleep on it at once; woken from here it does
	 * not.  Never runs once sio_iopf_device_disable() has returned (which
	 * waits for the calls in flight, so wake must not disable dev).
	 */
	void (*wake)(struct sio_device *dev, void *arg);
};

/* Per-device limits; 0 takes the default. */
struct sio_iopf_limits {
	uint32_t max_groups;	/* groups dispatched and not answered (256) */
	uint32_t max_partial;	/* requests waiting for their last (1024) */
};

/* Counters of one device since page requests were enabled on it. */
struct sio_iopf_stats {
	uint64_t requests;	/* accepted by report (partial and last) */
	uint64_t dropped;	/* partial requests refused: -ENOSPC */
	uint64_t groups;	/* complete groups */
	uint64_t responses[3];	/* delivered, by code */
	uint32_t outstanding;	/* groups waiting for their answer */
	uint32_t partial;	/* requests waiting for their last */
};

/*
 * Enable page requests on dev (PRI): responses go to ops->page_response
 * with arg.  -EBUSY if enabled already, -EINVAL without page_response,
 * -ENODEV if dev was removed.  Disable answers every outstanding group
 * INVALID, drops partial requests, and returns once no response can reach
 * the device model any more; the device model disables before it drops
 * its last reference to dev.
 */
SIO_API int sio_iopf_device_enable(struct sio_device *dev,
				   const struct sio_iopf_device_ops *ops,
				   void *arg,
				   const struct sio_iopf_limits *limits);
SIO_API void sio_iopf_device_disable(struct sio_device *dev);
/* -ENODEV if page requests are not enabled on dev. */
SIO_API int sio_iopf_device_stats(struct sio_device *dev,
				  struct sio_iopf_stats *out);

/*
 * A device sends a page request (iommu_report_device_fault).  Lock-free
 * lookup of the handler; safe against concurrent attach, detach and
 * replace.  Returns 0 when the request was taken: kept (not the last) or
 * its group dispatched to the handler.  Errors: -ENODEV (page requests not
 * enabled: nothing to answer), -EINVAL (a bad request: PASID beyond 20
 * bits; or, after answering INVALID, no handler there), -ENOSPC (partial
 * request over the limit, dropped), -EBUSY (outstanding-group limit,
 * answered FAILURE), -ENOMEM (answered FAILURE).
 */
SIO_API int sio_iopf_report(struct sio_device *dev,
			    const struct sio_page_request *req);

/* A complete group, as a handler sees it. */
struct sio_iopf_group;

/* The group's requests in arrival order, the last one last. */
SIO_API const struct sio_page_request *
sio_iopf_group_requests(const struct sio_iopf_group *group, size_t *count);
SIO_API const struct sio_page_request *
sio_iopf_group_last(const struct sio_iopf_group *group);
SIO_API struct sio_device *sio_iopf_group_device(const struct sio_iopf_group *group);
/* The attach handle it was dispatched to and that handle's domain. */
SIO_API struct sio_attach_handle *
sio_iopf_group_handle(const struct sio_iopf_group *group);
SIO_API struct sio_domain *sio_iopf_group_domain(const struct sio_iopf_group *group);

/*
 * Answer a group the handler took: the response reaches the device unless
 * the group was answered already (-EALREADY, e.g. by a detach); -EINVAL
 * for a bad code.  Either way (except -EINVAL) the handler's hold on the
 * group ends: the group may be freed when this returns.
 */
SIO_API int sio_iopf_group_respond(struct sio_iopf_group *group,
				   enum sio_page_response_code code);

struct sio_iopf_handler;

struct sio_iopf_handler_ops {
	/*
	 * Take a complete group.  Runs on the reporting thread inside the data
	 * path's RCU read-side section: it may take a short lock and queue the
	 * group, never wait (for a grace period, for a response).  0: the
	 * handler holds the group until it calls sio_iopf_group_respond()
	 * (possibly from here).  An error: the group is answered FAILURE.
	 */
	int (*handle)(struct sio_iopf_handler *handler,
		      struct sio_iopf_group *group);
	/*
	 * The attachment of handle is going away: answer every group of that
	 * handle the handler still holds (INVALID) before returning, or wait
	 * for the work it queued to answer them.  Called after the grace
	 * period of the detach or replace, from that thread, with no core
	 * lock held.  May be NULL: the layer then answers them itself and a
	 * late answer gets -EALREADY.
	 */
	void (*flush)(struct sio_iopf_handler *handler,
		      struct sio_attach_handle *handle);
};

/* Embedded in the user's structure. */
struct sio_iopf_handler {
	const struct sio_iopf_handler_ops *ops;
};

/* Make domain fault-capable: before it is attached anywhere (-EBUSY
 * otherwise); handler NULL makes it not fault-capable again.  -EINVAL for
 * a handler without a handle op or a static (blocked/identity) domain. */
SIO_API int sio_domain_set_iopf_handler(struct sio_domain *domain,
					struct sio_iopf_handler *handler);
SIO_API struct sio_iopf_handler *
sio_domain_iopf_handler(const struct sio_domain *domain);

/*
 * The SVA handler: resolves each request through the fault handler of the
 * SVA domain's mm (sio_mm_fault) on its own threads and answers SUCCESS,
 * or INVALID when the mm refuses.  Its flush answers the queued groups of
 * the handle and waits for one being resolved.  One handler serves any
 * number of SVA domains; destroy it after they are all detached.
 */
struct sio_iopf_sva;
SIO_API int sio_iopf_sva_create(unsigned int nthreads,
				struct sio_iopf_sva **out);
SIO_API void sio_iopf_sva_destroy(struct sio_iopf_sva *q);
SIO_API struct sio_iopf_handler *sio_iopf_sva_handler(struct sio_iopf_sva *q);
/* Make every SVA domain the SVA layer makes from now on for the devices of
 * sys fault-capable through q (sio_sva_set_domain_init); NULL uninstalls.
 * Each system has its own; one q may serve several.  Uninstall from every
 * system before destroying q. */
SIO_API void sio_iopf_sva_install(struct sio_system *sys,
				  struct sio_iopf_sva *q);

#ifdef __cplusplus
}
#endif
#endif
