/*
 * The selftest's emulated device of access objects (the kernel's
 * selftest.c "staccess"): CREATE_ACCESS makes an access object on an IOAS
 * and returns an fd standing for the emulated device; ACCESS_PAGES pins
 * IOVA through it, checks that the pinned pages are the ones behind the
 * program's uptr (-EBADE otherwise; a NULL uptr skips the check, as for
 * syzkaller) and remembers each pin as an item; DESTROY_ACCESS_PAGES
 * unpins one item; ACCESS_RW copies through IOVA; ACCESS_REPLACE_IOAS moves
 * it.  Its unmap callback unpins every item the range touches.  Closing the
 * fd unpins everything itself, then destroys the access, which therefore
 * never calls back into a closed device.
 *
 * The fd is an emulated file (softiommu/file.h).
 */
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_private.h"
#include "umem/remote.h"
#include "iommufd/selftest/selftest.h"
#include "softiommu/file.h"
#include "umem/umem.h"

int iommufd_test_access_op(struct iommufd_ucmd *ucmd);

struct staccess_item {
	struct cds_list_head node;
	uint64_t iova, length;
	unsigned int id;
};

struct selftest_access {
	struct iommufd_access *access;
	pthread_mutex_t lock;		/* protects items, next_id */
	struct cds_list_head items;
	unsigned int next_id;
};

static const struct sio_file_ops staccess_fops;

/* Which page a mapping shows at addr: its file (shared memory included)
 * and the offset in it; an anonymous private page has no identity to
 * share, only its own address.  false when addr is not mapped. */
struct page_id {
	dev_t dev;
	uint64_t ino, off;
};

static bool page_identity(const struct sio_maps *m, uint64_t addr,
			  struct page_id *id)
{
	struct sio_vma v;
	size_t pos = 0;

	while (sio_maps_next(m, &pos, &v)) {
		if (addr < v.start || addr >= v.end)
			continue;
		if (!v.ino) {
			*id = (struct page_id){ .off = addr };
			return true;
		}
		*id = (struct page_id){ v.dev, v.ino, v.offset + (addr - v.start) };
		return true;
	}
	return false;
}

/* The page the caller sees at addr: in our own maps, or in the shared
 * mode's server, what the client recorded there (remote.h). */
static bool seen_identity(const struct sio_maps *m, uint64_t addr,
			  struct page_id *id)
{
	struct sio_umem_owner *o = sio_umem_current();
	uint64_t ino, off;
	dev_t dev;

	if (!o || !sio_umem_owner_is_remote(o))
		return page_identity(m, addr, id);
	if (o->ops->backing(o, addr, &dev, &ino, &off))
		return false;
	*id = (struct page_id){ dev, ino, off };
	return true;
}

/*
 * The kernel's iommufd_test_check_pages(): the pages the access pinned for
 * [iova, iova + length) must be the pages the program sees at uptr (the
 * same byte offset within the first page).  Here a pinned page is the
 * library's alias of the program's memory, so two addresses name the same
 * page when their mappings show the same file at the same offset.
 */
static int check_pages(struct iommufd_access *access, uint64_t iova,
		       uint64_t length, uint64_t uptr, size_t ps)
{
	uint64_t first = iova & ~(uint64_t)(ps - 1);
	uint64_t end = (iova + length + ps - 1) & ~(uint64_t)(ps - 1);
	uint64_t ubase = uptr - (iova - first);
	struct sio_maps m = { 0 };
	int rc = 0;

	if (sio_maps_read("/proc/self/maps", &m))
		return sio_err(-EFAULT, "ACCESS_PAGES: /proc/self/maps not "
			       "readable");
	for (uint64_t at = first; at < end && !rc; at += ps) {
		struct page_id pinned, seen;
		size_t contig;
		uint64_t host = iommufd_access_pinned_host(access, at, &contig);

		if (!host || !page_identity(&m, host, &pinned))
			rc = sio_err(-EFAULT, "ACCESS_PAGES: pinned page at "
				     "IOVA %#llx has no mapping",
				     (unsigned long long)at);
		else if (!seen_identity(&m, ubase + (at - first), &seen))
			rc = sio_err(-EFAULT, "ACCESS_PAGES: uptr %#llx is not "
				     "mapped",
				     (unsigned long long)(ubase + (at - first)));
		else if (memcmp(&pinned, &seen, sizeof(seen)))
			rc = sio_err(-EBADE, "ACCESS_PAGES: page pinned at IOVA "
				     "%#llx is not the page at uptr %#llx",
				     (unsigned long long)at,
				     (unsigned long long)(ubase + (at - first)));
	}
	sio_maps_free(&m);
	return rc;
}

static void staccess_unmap(void *data, uint64_t iova, uint64_t length)
{
	struct selftest_access *sa = data;
	uint64_t last = iova + length - 1;
	struct staccess_item *it, *tmp;

	pthread_mutex_lock(&sa->lock);
	cds_list_for_each_entry_safe(it, tmp, &sa->items, node) {
		if (iova > it->iova + it->length - 1 || last < it->iova)
			continue;
		cds_list_del(&it->node);
		iommufd_access_unpin_pages(sa->access, it->iova, it->length);
		free(it);
	}
	pthread_mutex_unlock(&sa->lock);
}

static const struct iommufd_access_ops staccess_ops_pin = {
	.needs_pin_pages = true,
	.unmap = staccess_unmap,
};

static const struct iommufd_access_ops staccess_ops = {
	.unmap = staccess_unmap,
};

static void staccess_release(struct sio_file *file)
{
	struct selftest_access *sa = sio_file_priv(file);

	if (sa->access) {
		staccess_unmap(sa, 0, UINT64_MAX);
		iommufd_access_destroy(sa->access);
	}
	pthread_mutex_destroy(&sa->lock);
	free(sa);
}

static const struct sio_file_ops staccess_fops = {
	.name = "iommufd_test_staccess",
	.release = staccess_release,
};

/* The staccess behind fd, with a file reference in *filep. */
static struct selftest_access *staccess_get(int fd, struct sio_file **filep)
{
	struct sio_file *file;
	struct selftest_access *sa;

	file = sio_file_lookup(fd);
	if (!file)
		return NULL;
	/* Only our own files, as the kernel checks f_op: any other emulated
	 * fd (a /dev/iommu one, say) has a priv of another type. */
	sa = sio_file_ops(file) == &staccess_fops ? sio_file_priv(file) : NULL;
	if (!sa) {
		sio_file_put(file);
		return NULL;
	}
	*filep = file;
	return sa;
}

static int create_access(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	uint32_t flags = cmd->create_access.flags, id;
	struct selftest_access *sa;
	struct sio_file *file;
	int fd, rc;

	if (flags & ~MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)
		return sio_err(-EOPNOTSUPP, "CREATE_ACCESS: flags %#x", flags);
	sa = sio_calloc(1, sizeof(*sa));
	if (!sa)
		return sio_err(-ENOMEM, "CREATE_ACCESS: no memory");
	pthread_mutex_init(&sa->lock, NULL);
	CDS_INIT_LIST_HEAD(&sa->items);
	rc = sio_file_create(&staccess_fops, sa, true, &file, &fd);
	if (rc) {
		pthread_mutex_destroy(&sa->lock);
		free(sa);
		return rc;
	}
	/* From here the file owns sa: closing it frees everything. */
	sa->access = iommufd_access_create(
		ucmd->ictx,
		(flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)
			? &staccess_ops_pin : &staccess_ops,
		sa, &id, &rc);
	if (!sa->access)
		goto out_close;
	rc = iommufd_access_attach(sa->access, cmd->id);
	if (rc)
		goto out_close;
	cmd->create_access.out_access_fd = fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_close;
	return 0;
out_close:
	sio_file_close(fd);
	return rc;
}

/* ACCESS_PAGES under sa->lock: pin, check against uptr, remember. */
static int access_pages(struct iommufd_ucmd *ucmd, struct selftest_access *sa,
			struct iommu_test_cmd *cmd)
{
	uint64_t iova = cmd->access_pages.iova, len = cmd->access_pages.length;
	struct staccess_item *it;
	int rc;

	rc = iommufd_access_pin_pages(sa->access, iova, len,
				      cmd->access_pages.flags &
					      MOCK_FLAGS_ACCESS_WRITE);
	if (rc)
		return rc;
	if (cmd->access_pages.uptr)
		rc = check_pages(sa->access, iova, len, cmd->access_pages.uptr,
				 sa->access->ictx->host->page_size);
	it = rc ? NULL : sio_calloc(1, sizeof(*it));
	if (!rc && !it)
		rc = sio_err(-ENOMEM, "ACCESS_PAGES: no memory");
	if (!rc) {
		it->iova = iova;
		it->length = len;
		it->id = sa->next_id++;
		cds_list_add_tail(&it->node, &sa->items);
		cmd->access_pages.out_access_pages_id = it->id;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		if (rc) {
			cds_list_del(&it->node);
			free(it);
		}
	}
	if (rc)
		iommufd_access_unpin_pages(sa->access, iova, len);
	return rc;
}

int iommufd_test_access_op(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct selftest_access *sa;
	struct sio_file *file = NULL;
	int rc = 0;

	switch (cmd->op) {
	case IOMMU_TEST_OP_CREATE_ACCESS:
		return create_access(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_PAGES:
		if (cmd->access_pages.length > 16 * 1024 * 1024)
			return sio_err(-ENOMEM, "ACCESS_PAGES: length %#llx "
				       "over 16 MiB",
				       (unsigned long long)
					       cmd->access_pages.length);
		if (cmd->access_pages.flags & ~(MOCK_FLAGS_ACCESS_WRITE |
						MOCK_FLAGS_ACCESS_SYZ))
			return sio_err(-EOPNOTSUPP, "ACCESS_PAGES: flags %#x",
				       cmd->access_pages.flags);
		break;
	case IOMMU_TEST_OP_ACCESS_RW:
		if (cmd->access_rw.length > 16 * 1024 * 1024)
			return sio_err(-ENOMEM, "ACCESS_RW: length %#llx over "
				       "16 MiB",
				       (unsigned long long)cmd->access_rw.length);
		if (cmd->access_rw.flags &
		    ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH |
		      MOCK_FLAGS_ACCESS_SYZ))
			return sio_err(-EOPNOTSUPP, "ACCESS_RW: flags %#x",
				       cmd->access_rw.flags);
		break;
	default:
		break;
	}
	sa = staccess_get((int)cmd->id, &file);
	if (!sa)
		return sio_err(-EBADFD, "test op %u: fd %u is not an access "
			       "file", cmd->op, cmd->id);

	switch (cmd->op) {
	case IOMMU_TEST_OP_ACCESS_REPLACE_IOAS:
		rc = iommufd_access_replace(sa->access,
					    cmd->access_replace_ioas.ioas_id);
		break;
	case IOMMU_TEST_OP_ACCESS_PAGES:
		if (!sa->access->ops->needs_pin_pages) {
			rc = sio_err(-EOPNOTSUPP, "ACCESS_PAGES: access made "
				     "without NEEDS_PIN_PAGES");
			break;
		}
		pthread_mutex_lock(&sa->lock);
		rc = access_pages(ucmd, sa, cmd);
		pthread_mutex_unlock(&sa->lock);
		break;
	case IOMMU_TEST_OP_DESTROY_ACCESS_PAGES: {
		struct staccess_item *it;

		rc = -ENOENT;
		pthread_mutex_lock(&sa->lock);
		cds_list_for_each_entry(it, &sa->items, node) {
			if (it->id != cmd->destroy_access_pages.access_pages_id)
				continue;
			cds_list_del(&it->node);
			iommufd_access_unpin_pages(sa->access, it->iova,
						   it->length);
			free(it);
			rc = 0;
			break;
		}
		pthread_mutex_unlock(&sa->lock);
		if (rc)
			sio_err(rc, "DESTROY_ACCESS_PAGES: no pin %u",
				cmd->destroy_access_pages.access_pages_id);
		break;
	}
	case IOMMU_TEST_OP_ACCESS_RW: {
		struct sio_umem_owner *owner = ucmd->ictx->host->owner;
		size_t len = cmd->access_rw.length;
		bool wr = cmd->access_rw.flags & MOCK_ACCESS_RW_WRITE;
		void *tmp = sio_calloc(1, len ? len : 1);

		if (!tmp) {
			rc = sio_err(-ENOMEM, "ACCESS_RW: no memory");
			break;
		}
		if (wr && sio_umem_read(owner, tmp, cmd->access_rw.uptr, len))
			rc = sio_err(-EFAULT, "ACCESS_RW: uptr %#llx not "
				     "readable",
				     (unsigned long long)cmd->access_rw.uptr);
		if (!rc)
			rc = iommufd_access_rw(sa->access, cmd->access_rw.iova,
					       tmp, len,
					       cmd->access_rw.flags &
						       (IOMMUFD_ACCESS_RW_WRITE |
							IOMMUFD_ACCESS_RW_SLOW_PATH));
		if (!rc && !wr &&
		    sio_umem_write(owner, cmd->access_rw.uptr, tmp, len))
			rc = sio_err(-EFAULT, "ACCESS_RW: uptr %#llx not "
				     "writable",
				     (unsigned long long)cmd->access_rw.uptr);
		free(tmp);
		break;
	}
	default:
		rc = sio_err(-EOPNOTSUPP, "test op %u is not an access op",
			     cmd->op);
	}
	sio_file_put(file);
	return rc;
}
