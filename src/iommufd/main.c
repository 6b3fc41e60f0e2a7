/*
 * The iommufd context and its ioctl dispatcher (the kernel's main.c).
 *
 * Every iommufd ioctl of Linux 7.3 is one row of iommufd_ioctl_ops[]: the
 * command number, the handler, the size of our structure and the minimum
 * size a caller may pass (the end of the last mandatory field, as the
 * kernel's IOCTL_OP).  The dispatcher applies the extension rules once for
 * all of them, in the kernel's order:
 *   1. a number outside the table: the VFIO compatibility path
 *      (vfio_compat.c);
 *   2. the __u32 size is read first: a bad pointer is -EFAULT;
 *   3. a command whose number is in range but is not the table's: -ENOTTY;
 *   4. size < minimum: -EINVAL;
 *   5. size > ours: the tail must be zero (-E2BIG), else it is ignored;
 *      size < ours: the rest of our copy is zero;
 * then runs the handler on the copy.  Handlers answer with
 * iommufd_ucmd_respond(), which writes back min(caller size, ours) bytes.
 * If the handler allocated an object through the ucmd it is finalized on
 * success and aborted on error here, so no ioctl can publish half an object.
 *
 * The command softiommu does not implement (IOAS_NOIOMMU_GET_PA) is in
 * the table with its size, so it gets every size rule, then -EOPNOTSUPP.
 * IOMMU_TEST_CMD answers -ENOTTY on a host without the selftest option.
 * The host the contexts live in is in host.c.
 */
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "iommufd/iommufd_private.h"
#include "umem/copy.h"
#include "umem/remote.h"

/* ------------------------------------------------------------------ */
/* Context                                                              */
/* ------------------------------------------------------------------ */

SIO_API int sio_iommufd_open(struct sio_iommufd_host *host,
			     struct sio_iommufd **out)
{
	struct sio_iommufd *ictx;

	sio_err_clear();
	if (!host || !out)
		return sio_err(-EINVAL, "iommufd: open: NULL argument");
	ictx = sio_calloc(1, sizeof(*ictx));
	if (!ictx)
		return sio_err(-ENOMEM, "iommufd: open");
	ictx->host = host;
	ictx->refs = 1;
	pthread_mutex_init(&ictx->obj_lock, NULL);
	pthread_cond_init(&ictx->destroy_wait, NULL);
	pthread_mutex_init(&ictx->groups_lock, NULL);
	CDS_INIT_LIST_HEAD(&ictx->groups);
	pthread_mutex_init(&ictx->mmap_lock, NULL);
	CDS_INIT_LIST_HEAD(&ictx->mmaps);
	ictx->free_hint = 1;
	iommufd_ctx_set_id_limit(ictx, UINT32_MAX);
	ictx->account_mode = SIO_UMEM_ACCT_USER;
	*out = ictx;
	return 0;
}

struct sio_iommufd_host *iommufd_ctx_host(struct sio_iommufd *ictx)
{
	return ictx->host;
}

void iommufd_ctx_get(struct sio_iommufd *ictx)
{
	__atomic_add_fetch(&ictx->refs, 1, __ATOMIC_RELAXED);
}

void iommufd_ctx_put(struct sio_iommufd *ictx)
{
	if (__atomic_sub_fetch(&ictx->refs, 1, __ATOMIC_ACQ_REL))
		return;
	iommufd_objects_destroy_all(ictx);
	iommufd_objects_free_table(ictx);
	pthread_cond_destroy(&ictx->destroy_wait);
	pthread_mutex_destroy(&ictx->obj_lock);
	pthread_mutex_destroy(&ictx->groups_lock);
	pthread_mutex_destroy(&ictx->mmap_lock);
	free(ictx);
}

/* The open's reference: the objects go when the last access object that
 * still holds the context is destroyed (at once when there is none), as
 * the kernel's release runs only once no access holds the file. */
SIO_API void sio_iommufd_release(struct sio_iommufd *ictx)
{
	if (!ictx)
		return;
	iommufd_ctx_put(ictx);
}

bool iommufd_capable(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uint64_t caps;

	/* In the shared mode's server, the caller is the client served. */
	if (sio_umem_remote_caps_current(&caps))
		return (caps >> cap) & 1;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
}

/* ------------------------------------------------------------------ */
/* Dispatcher                                                           */
/* ------------------------------------------------------------------ */

/* iommufd_ucmd_respond() (iommufd_private.h) past its plain copy: the
 * public entry's copy, or the message of a fault. */
int iommufd_ucmd_respond_copy(struct iommufd_ucmd *ucmd, size_t len)
{
	if (!ucmd->copy_direct &&
	    !sio_umem_write(ucmd->ictx->host->owner, ucmd->ubuffer, ucmd->cmd,
			    len))
		return 0;
	return sio_err(-EFAULT, "result not writable to %#llx",
		       (unsigned long long)ucmd->ubuffer);
}

static int iommufd_destroy(struct iommufd_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;
	int rc = iommufd_object_remove(ucmd->ictx, NULL, cmd->id, 0);

	/* -ENOENT is an answer programs expect (the kernel leaves no
	 * message): the table's "no object N" stays the only one, and the
	 * dispatcher names the ioctl in front of it when it is read. */
	if (rc == -EBUSY)
		return sio_err(rc, "IOMMU_DESTROY: object %u in use", cmd->id);
	return rc;
}

/* Commands softiommu does not implement: the size rules ran; the
 * feature is absent. */
static int iommufd_not_yet(struct iommufd_ucmd *ucmd)
{
	(void)ucmd;
	return sio_err(-EOPNOTSUPP, "not supported by softiommu");
}

union ucmd_buffer {
	struct iommu_destroy destroy;
	struct iommu_fault_alloc fault;
	struct iommu_hw_info info;
	struct iommu_hw_queue_alloc hw_queue;
	struct iommu_hwpt_alloc hwpt;
	struct iommu_hwpt_get_dirty_bitmap get_dirty_bitmap;
	struct iommu_hwpt_invalidate cache;
	struct iommu_hwpt_set_dirty_tracking set_dirty_tracking;
	struct iommu_ioas_alloc alloc;
	struct iommu_ioas_allow_iovas allow_iovas;
	struct iommu_ioas_change_process change_process;
	struct iommu_ioas_copy ioas_copy;
	struct iommu_ioas_noiommu_get_pa noiommu_get_pa;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_map_file map_file;
	struct iommu_ioas_unmap unmap;
	struct iommu_option option;
	struct iommu_vdevice_alloc vdev;
	struct iommu_veventq_alloc veventq;
	struct iommu_vfio_ioas vfio_ioas;
	struct iommu_viommu_alloc viommu;
	struct iommu_test_cmd test;
};

struct iommufd_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	const char *name;		/* IOMMU_..., for messages */
	int (*execute)(struct iommufd_ucmd *ucmd);
};

#define IOMMUFD_OFFSETOFEND(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

/* Zero, or a compile error when _struct does not fit the buffer every
 * ioctl is copied into (the kernel's BUILD_BUG_ON in IOCTL_OP). */
#define IOCTL_FITS_BUFFER(_struct) \
	(0 * sizeof(char[sizeof(_struct) <= sizeof(union ucmd_buffer) ? 1 : -1]))

#define IOCTL_OP(_ioctl, _fn, _struct, _last)                                \
	[_IOC_NR(_ioctl) - IOMMUFD_CMD_BASE] = {                             \
		.size = sizeof(_struct) + IOCTL_FITS_BUFFER(_struct),        \
		.min_size = IOMMUFD_OFFSETOFEND(_struct, _last),             \
		.ioctl_num = _ioctl,                                         \
		.name = #_ioctl,                                             \
		.execute = _fn,                                              \
	}

static const struct iommufd_ioctl_op iommufd_ioctl_ops[] = {
	IOCTL_OP(IOMMU_DESTROY, iommufd_destroy, struct iommu_destroy, id),
	IOCTL_OP(IOMMU_FAULT_QUEUE_ALLOC, iommufd_fault_alloc,
		 struct iommu_fault_alloc, out_fault_fd),
	IOCTL_OP(IOMMU_GET_HW_INFO, iommufd_get_hw_info, struct iommu_hw_info,
		 __reserved),
	IOCTL_OP(IOMMU_HW_QUEUE_ALLOC, iommufd_hw_queue_alloc_ioctl,
		 struct iommu_hw_queue_alloc, length),
	IOCTL_OP(IOMMU_HWPT_ALLOC, iommufd_hwpt_alloc, struct iommu_hwpt_alloc,
		 __reserved),
	IOCTL_OP(IOMMU_HWPT_GET_DIRTY_BITMAP, iommufd_hwpt_get_dirty_bitmap,
		 struct iommu_hwpt_get_dirty_bitmap, data),
	IOCTL_OP(IOMMU_HWPT_INVALIDATE, iommufd_hwpt_invalidate,
		 struct iommu_hwpt_invalidate, __reserved),
	IOCTL_OP(IOMMU_HWPT_SET_DIRTY_TRACKING, iommufd_hwpt_set_dirty_tracking,
		 struct iommu_hwpt_set_dirty_tracking, __reserved),
	IOCTL_OP(IOMMU_IOAS_ALLOC, iommufd_ioas_alloc_ioctl,
		 struct iommu_ioas_alloc, out_ioas_id),
	IOCTL_OP(IOMMU_IOAS_ALLOW_IOVAS, iommufd_ioas_allow_iovas,
		 struct iommu_ioas_allow_iovas, allowed_iovas),
	IOCTL_OP(IOMMU_IOAS_CHANGE_PROCESS, iommufd_ioas_change_process,
		 struct iommu_ioas_change_process, __reserved),
	IOCTL_OP(IOMMU_IOAS_COPY, iommufd_ioas_copy, struct iommu_ioas_copy,
		 src_iova),
	IOCTL_OP(IOMMU_IOAS_IOVA_RANGES, iommufd_ioas_iova_ranges,
		 struct iommu_ioas_iova_ranges, out_iova_alignment),
	IOCTL_OP(IOMMU_IOAS_MAP, iommufd_ioas_map, struct iommu_ioas_map, iova),
	IOCTL_OP(IOMMU_IOAS_MAP_FILE, iommufd_ioas_map_file,
		 struct iommu_ioas_map_file, iova),
	IOCTL_OP(IOMMU_IOAS_NOIOMMU_GET_PA, iommufd_not_yet,
		 struct iommu_ioas_noiommu_get_pa, out_phys),
	IOCTL_OP(IOMMU_IOAS_UNMAP, iommufd_ioas_unmap, struct iommu_ioas_unmap,
		 length),
	IOCTL_OP(IOMMU_OPTION, iommufd_option, struct iommu_option, val64),
	IOCTL_OP(IOMMU_VDEVICE_ALLOC, iommufd_vdevice_alloc_ioctl,
		 struct iommu_vdevice_alloc, virt_id),
	IOCTL_OP(IOMMU_VEVENTQ_ALLOC, iommufd_veventq_alloc,
		 struct iommu_veventq_alloc, out_veventq_fd),
	IOCTL_OP(IOMMU_VFIO_IOAS, iommufd_vfio_ioas, struct iommu_vfio_ioas,
		 __reserved),
	IOCTL_OP(IOMMU_VIOMMU_ALLOC, iommufd_viommu_alloc_ioctl,
		 struct iommu_viommu_alloc, out_viommu_id),
	IOCTL_OP(IOMMU_TEST_CMD, iommufd_test, struct iommu_test_cmd, last),
};

#define NR_OPS (sizeof(iommufd_ioctl_ops) / sizeof(iommufd_ioctl_ops[0]))

/* copy_struct_from_user(): zero-extend a short struct, refuse a long one
 * with a non-zero tail. */
/* The smallest page a program may have: the one-copy read stays in it. */
#define ONE_COPY_PAGE 4096u

static int copy_struct_from_user(struct sio_umem_owner *owner, void *dst,
				 size_t ksize, uint64_t src, size_t usize)
{
	size_t size = usize < ksize ? usize : ksize;

	if (usize > ksize) {
		uint64_t pos = src + ksize, end = src + usize;
		unsigned char chunk[256];

		while (pos < end) {
			size_t n = end - pos < sizeof(chunk) ? end - pos
							     : sizeof(chunk);

			if (sio_umem_read(owner, chunk, pos, n))
				return -EFAULT;
			for (size_t i = 0; i < n; i++)
				if (chunk[i])
					return -E2BIG;
			pos += n;
		}
	}
	memset(dst, 0, ksize);
	if (sio_umem_read(owner, dst, src, size))
		return -EFAULT;
	return 0;
}

/*
 * A failed ioctl's message names it: handlers say "IOMMU_...: reason"
 * themselves; a reason given deeper (an object lookup, the table) gets the
 * name in front, and a failure without a reason gets the name alone.
 */
static void name_the_ioctl(const char *name, int ret)
{
	/* Formatted only if someone reads it (util/error.h). */
	sio_err_prefix(ret, name, name + strlen("IOMMU_"));
}

/* Run op's handler on the copy in ucmd; name a failure, finalize or abort
 * the object it allocated. */
static inline long ucmd_execute(struct sio_iommufd *ictx,
				const struct iommufd_ioctl_op *op,
				struct iommufd_ucmd *ucmd)
{
	int ret = op->execute(ucmd);

	if (ret < 0)
		name_the_ioctl(op->name, ret);
	else
		/* A failure handled on the way (a retry) is not the answer. */
		sio_err_clear();

	if (__builtin_expect(ucmd->new_obj != NULL, 0)) {
		if (ret)
			iommufd_object_abort_and_destroy(ictx, ucmd->new_obj);
		else
			iommufd_object_finalize(ictx, ucmd->new_obj);
	}
	return ret;
}

/* The kernel's steps, one by one: every ioctl that is not the common case
 * below (sio_iommufd_ioctl()). */
static __attribute__((noinline)) long ioctl_steps(struct sio_iommufd *ictx,
						  unsigned int cmd,
						  unsigned long arg)
{
	const struct iommufd_ioctl_op *op;
	struct sio_umem_owner *owner;
	struct iommufd_ucmd ucmd;
	union ucmd_buffer buf;
	unsigned int nr;
	int ret;

	sio_err_clear();
	if (!ictx)
		return sio_err(-EBADF, "iommufd: ioctl on no context");
	nr = _IOC_NR(cmd);
	if (nr < IOMMUFD_CMD_BASE || nr - IOMMUFD_CMD_BASE >= NR_OPS)
		return iommufd_vfio_ioctl(ictx, cmd, arg);

	ucmd.ictx = ictx;
	ucmd.ubuffer = arg;
	ucmd.cmd = &buf;
	ucmd.new_obj = NULL;
	ucmd.copy_direct = false;
	op = &iommufd_ioctl_ops[nr - IOMMUFD_CMD_BASE];
	owner = ictx->host->owner;
	/* The size is read first, as the kernel does: -EFAULT before
	 * -ENOTTY. */
	if (sio_umem_read(owner, &ucmd.user_size, arg, sizeof(ucmd.user_size)))
		return sio_err(-EFAULT, "%s: argument %#lx not readable",
			       op->execute && op->ioctl_num == cmd ?
			       op->name : "iommufd", arg);
	if (!op->execute || op->ioctl_num != cmd)
		return sio_err(-ENOTTY, "iommufd: unknown ioctl %#x", cmd);
	/* A kernel without CONFIG_IOMMUFD_TEST has no such command. */
	if (cmd == IOMMU_TEST_CMD && !ictx->host->mock)
		return sio_err(-ENOTTY, "IOMMU_TEST_CMD: the host has no "
			       "selftest ABI");
	if (ucmd.user_size < op->min_size)
		return sio_err(-EINVAL, "%s: size %u below the minimum %u",
			       op->name, ucmd.user_size, op->min_size);

	ret = copy_struct_from_user(owner, ucmd.cmd, op->size, arg,
				    ucmd.user_size);
	if (ret == -E2BIG)
		return sio_err(ret, "%s: size %u with non-zero bytes past the "
			       "%u known", op->name, ucmd.user_size, op->size);
	if (ret)
		return sio_err(ret, "%s: argument %#lx not readable", op->name,
			       arg);
	return ucmd_execute(ictx, op, &ucmd);
}

SIO_API long sio_iommufd_ioctl(struct sio_iommufd *ictx, unsigned int cmd,
			       unsigned long arg)
{
	unsigned int nr = _IOC_NR(cmd) - IOMMUFD_CMD_BASE;
	const struct iommufd_ioctl_op *op;
	struct iommufd_ucmd ucmd;
	union ucmd_buffer buf;

	/* The common case in one copy: a known command (an empty row's
	 * ioctl_num is 0, never a command in range) whose struct lies in
	 * the page of its size field (so the read cannot reach another
	 * mapping, an emulated BAR say, that the kernel would not read) and
	 * is no longer than ours, read with the plain fault-safe copy
	 * (umem/copy.h).  Bytes past the caller's size are zeroed as the
	 * kernel's copy leaves them.  Anything else (no context, a number
	 * outside the table, a fault, a longer struct, an unknown command, a
	 * copy that must go through the owner's op, a thread with fault
	 * injection armed, whose copies are counted sites: util/fail.h)
	 * takes the kernel's steps, which read again. */
	if (__builtin_expect(!ictx || nr >= NR_OPS, 0))
		return ioctl_steps(ictx, cmd, arg);
	op = &iommufd_ioctl_ops[nr];
	if (__builtin_expect(op->ioctl_num != cmd ||
			     (arg & (ONE_COPY_PAGE - 1)) + op->size >
			     ONE_COPY_PAGE ||
			     (cmd == IOMMU_TEST_CMD && !ictx->host->mock) ||
			     !sio_umem_copy_direct(ictx->host->owner, arg,
						   op->size) ||
			     sio_safe_memcpy(&buf, (const void *)(uintptr_t)arg,
					     op->size), 0))
		return ioctl_steps(ictx, cmd, arg);
	memcpy(&ucmd.user_size, &buf, sizeof(ucmd.user_size));
	if (__builtin_expect(ucmd.user_size != op->size, 0)) {
		if (ucmd.user_size < op->min_size ||
		    ucmd.user_size > op->size)
			return ioctl_steps(ictx, cmd, arg);
		memset((char *)&buf + ucmd.user_size, 0,
		       op->size - ucmd.user_size);
	}
	sio_err_clear();
	ucmd.ictx = ictx;
	ucmd.ubuffer = arg;
	ucmd.cmd = &buf;
	ucmd.new_obj = NULL;
	ucmd.copy_direct = true;
	return ucmd_execute(ictx, op, &ucmd);
}
