/*
 * The /dev/iommu descriptor: an iommufd context wrapped in an emulated file.
 *
 * The shim opens /dev/iommu through sio_iommufd_open_fd(), and so does the
 * VFIO layer for /dev/vfio/vfio (which, in a kernel built with
 * CONFIG_IOMMUFD_VFIO_CONTAINER, is an iommufd too).  The file's ops live
 * here, beside the context, so that a layer handed a descriptor can check
 * that it is an iommufd (the kernel's f_op test) before it trusts the
 * context behind it: iommufd_ctx_from_fd().
 *
 * The kernel's /dev/iommu has no poll op, so it polls readable and writable
 * (DEFAULT_POLLMASK): the backing eventfd is kept readable to match.
 */
#include <fcntl.h>

#include "file/file.h"
#include "iommufd/iommufd_private.h"
#include "softiommu/file.h"

/* Every ioctl of the program on /dev/iommu: the context read inline. */
static long iommufd_fd_ioctl(struct sio_file *file, unsigned int cmd,
			     unsigned long arg)
{
	return sio_iommufd_ioctl(sio_file_priv_of(file), cmd, arg);
}

static void iommufd_fd_release(struct sio_file *file)
{
	sio_iommufd_release(sio_file_priv(file));
}

/* Regions drivers offer on the fd (a vIOMMU's page): the file layer
 * follows each mapping and says when it is gone. */
static int iommufd_fd_mmap(struct sio_file *file, void **addr, size_t len,
			   int prot, int flags, off_t off)
{
	return sio_iommufd_mmap(sio_file_priv(file), addr, len, prot, flags,
				off);
}

static void iommufd_fd_munmap(struct sio_file *file, void *addr, size_t len,
			      off_t off)
{
	sio_iommufd_munmap(sio_file_priv(file), addr, len, off);
}

static const struct sio_file_ops iommufd_fd_ops = {
	.name = "iommufd",
	.ioctl = iommufd_fd_ioctl,
	.mmap = iommufd_fd_mmap,
	.munmap = iommufd_fd_munmap,
	.release = iommufd_fd_release,
};

SIO_API int sio_iommufd_open_fd(struct sio_iommufd_host *host, int flags)
{
	struct sio_iommufd *ictx;
	struct sio_file *file;
	int fd, rc;

	if (flags & O_DIRECTORY)
		return sio_err(-ENOTDIR, "iommufd: not a directory");
	rc = sio_iommufd_open(host, &ictx);
	if (rc)
		return rc;
	rc = sio_file_create(&iommufd_fd_ops, ictx, flags & O_CLOEXEC, &file,
			     &fd);
	if (rc) {
		sio_iommufd_release(ictx);
		return rc;
	}
	sio_file_set_readable(file, true);
	/* fd is the client's number when the shared mode's server opens for
	 * a client (src/file/file.h): the client sets its own flag. */
	if ((flags & O_NONBLOCK) && !sio_file_proxy_get())
		sio_sys_fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

struct sio_iommufd *iommufd_ctx_from_fd(int fd)
{
	struct sio_file *file = sio_file_lookup(fd);
	struct sio_iommufd *ictx = NULL;

	if (!file)
		return NULL;
	if (sio_file_ops(file) == &iommufd_fd_ops) {
		ictx = sio_file_priv(file);
		iommufd_ctx_get(ictx);
	}
	sio_file_put(file);
	return ictx;
}
