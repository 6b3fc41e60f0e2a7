/*
 * Shared fixture of the VFIO unit tests (header-only: each test program is
 * one source): a small PCI device model, two functions of it probed on a
 * soft IOMMU (VT-d second-stage tables, 8-bit PASIDs, dirty tracking) of an
 * iommufd host, and a VFIO
 * subsystem with both added.  The tests issue the uAPI on the returned
 * descriptors through the file layer (sio_file_ioctl, sio_file_pread, ...),
 * as the LD_PRELOAD shim does for a program.
 *
 * The model: BAR0 (16 KiB, 64-bit) has a scratch register at 0x0, a
 * read-only ID at 0x8, a doorbell at 0x10 that copies 64 bytes from the
 * IOVA in 0x18 to the IOVA in 0x20 and then raises the vector in 0x28, a
 * register at 0x30 whose write deasserts INTx, and its MSI-X table (4 vectors) at 0x2000 with the PBA at 0x3000.  BAR2
 * is 4 KiB of 32-bit memory, BAR4 32 bytes of I/O space.  MSI has 4
 * vectors; function 0 has an INTx pin, function 1 none.
 */
#ifndef SIO_TEST_VFIO_MODEL_H
#define SIO_TEST_VFIO_MODEL_H

#include <errno.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "softiommu/file.h"
#include "softiommu/iommu.h"
#include "softiommu/iommufd.h"
#include "softiommu/pci.h"
#include "softiommu/soft.h"
#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/vfio.h"
#include "softiommu/vfio.h"

#define T_BDF0 SIO_PCI_BDF(0x100, 0, 1, 0)
#define T_BDF1 SIO_PCI_BDF(0x100, 0, 2, 0)
#define T_NAME0 "0100:00:01.0"
#define T_NAME1 "0100:00:02.0"
#define T_REG_SCRATCH 0x0
#define T_REG_ID 0x8
#define T_REG_DOORBELL 0x10
#define T_REG_SRC 0x18
#define T_REG_DST 0x20
#define T_REG_VECTOR 0x28
#define T_REG_INTX_ACK 0x30
#define T_ID 0x5a5a
#define T_MSIX_TABLE 0x2000
#define T_MSIX_PBA 0x3000
#define T_PAGE ((size_t)sysconf(_SC_PAGESIZE))
#define T_REGION(i) ((off_t)((uint64_t)(i) << 40))
#define T_CFG T_REGION(SIO_VFIO_PCI_CONFIG_REGION_INDEX)

struct tmodel {
	uint64_t scratch, src, dst, vector;
	unsigned int resets;
	int dma_rc, irq_rc;
};

static inline uint64_t tm_bar_read(struct sio_pci_dev *pdev, int bar, uint64_t off,
			    unsigned int size)
{
	struct tmodel *m = sio_pci_dev_priv(pdev);

	(void)size;
	if (bar != 0)
		return 0x11;
	switch (off) {
	case T_REG_SCRATCH:
		return m->scratch;
	case T_REG_ID:
		return T_ID;
	case T_REG_SRC:
		return m->src;
	case T_REG_DST:
		return m->dst;
	case T_REG_VECTOR:
		return m->vector;
	default:
		return 0;
	}
}

static inline void tm_bar_write(struct sio_pci_dev *pdev, int bar, uint64_t off,
			 unsigned int size, uint64_t val)
{
	struct tmodel *m = sio_pci_dev_priv(pdev);
	uint8_t buf[64];

	if (bar != 0)
		return;
	if (size < 8)
		val &= (1ull << (8 * size)) - 1;
	switch (off) {
	case T_REG_SCRATCH:
		m->scratch = val;
		break;
	case T_REG_SRC:
		m->src = val;
		break;
	case T_REG_DST:
		m->dst = val;
		break;
	case T_REG_VECTOR:
		m->vector = val;
		break;
	case T_REG_INTX_ACK:
		sio_pci_model_intx_deassert(pdev);
		break;
	case T_REG_DOORBELL:
		m->dma_rc = sio_pci_dma_read(pdev, SIO_NO_PASID, m->src, buf,
					     sizeof(buf), NULL);
		if (!m->dma_rc)
			m->dma_rc = sio_pci_dma_write(pdev, SIO_NO_PASID, m->dst,
						      buf, sizeof(buf), NULL);
		m->irq_rc = sio_pci_model_irq(pdev, (unsigned int)m->vector);
		break;
	}
}

static inline void tm_reset(struct sio_pci_dev *pdev)
{
	struct tmodel *m = sio_pci_dev_priv(pdev);

	m->scratch = m->src = m->dst = m->vector = 0;
	m->resets++;
}

static const struct sio_pci_model_ops tm_ops = {
	.bar_read = tm_bar_read,
	.bar_write = tm_bar_write,
	.reset = tm_reset,
};

struct vfx {
	struct sio_iommufd_host *host;
	struct sio_iommu *iommu;
	struct sio_pci_dev *pdev[2];
	struct tmodel m[2];
	struct sio_vfio *vfio;
	uint8_t *buf;			/* 4 pages of shared memory */
};

static inline struct sio_pci_dev_desc tm_desc(struct tmodel *m, uint32_t bdf,
				       bool intx)
{
	return (struct sio_pci_dev_desc){
		.model = "vfio-test",
		.bdf = bdf,
		.vendor_id = 0x1af4,
		.device_id = 0x10f0,
		.class_code = 0x088000,
		.bars[0] = { .size = 16384, .flags = SIO_PCI_BAR_MEM64 },
		.bars[2] = { .size = 4096 },
		.bars[4] = { .size = 32, .flags = SIO_PCI_BAR_IO },
		.msix_vectors = 4,
		.msix_bar = 0,
		.msix_table_offset = T_MSIX_TABLE,
		.msix_pba_offset = T_MSIX_PBA,
		.msi_vectors = 4,
		.pcie = true,
		.intx = intx,
		.ops = &tm_ops,
		.priv = m,
	};
}

static inline int vfx_setup(void **state)
{
	struct vfx *f = calloc(1, sizeof(*f));
	struct sio_soft_config cfg = { .format = SIO_PT_VTD_SS,
				       .pasid_bits = 8, .dirty = true };
	struct sio_pci_dev_desc d0 = tm_desc(&f->m[0], T_BDF0, true);
	struct sio_pci_dev_desc d1 = tm_desc(&f->m[1], T_BDF1, false);

	assert_int_equal(sio_iommufd_host_create(&f->host), 0);
	assert_int_equal(sio_soft_iommu_create(sio_iommufd_host_system(f->host),
					       "vtd", &cfg, &f->iommu), 0);
	d0.pasid_bits = 8;
	assert_int_equal(sio_pci_dev_create(f->iommu, &d0, &f->pdev[0]), 0);
	assert_int_equal(sio_pci_dev_create(f->iommu, &d1, &f->pdev[1]), 0);
	assert_int_equal(sio_vfio_create(f->host, &f->vfio), 0);
	assert_int_equal(sio_vfio_add_device(f->vfio, f->pdev[0]), 0);
	assert_int_equal(sio_vfio_add_device(f->vfio, f->pdev[1]), 0);
	f->buf = mmap(NULL, 4 * T_PAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(f->buf != MAP_FAILED);
	*state = f;
	return 0;
}

static inline int vfx_teardown(void **state)
{
	struct vfx *f = *state;

	sio_vfio_destroy(f->vfio);
	sio_pci_dev_destroy(f->pdev[0]);
	sio_pci_dev_destroy(f->pdev[1]);
	sio_iommu_unregister(f->iommu);
	sio_iommufd_host_destroy(f->host);
	munmap(f->buf, 4 * T_PAGE);
	free(f);
	return 0;
}

/* ioctl(2) on an emulated descriptor, as the shim routes it. */
static inline long vio(int fd, unsigned int cmd, const void *arg)
{
	struct sio_file *file = sio_file_lookup(fd);
	long rc;

	if (!file)
		return -EBADF;
	rc = sio_file_ioctl(file, cmd, (unsigned long)arg);
	sio_file_put(file);
	return rc;
}

static inline long vio_n(int fd, unsigned int cmd, unsigned long arg)
{
	struct sio_file *file = sio_file_lookup(fd);
	long rc;

	if (!file)
		return -EBADF;
	rc = sio_file_ioctl(file, cmd, arg);
	sio_file_put(file);
	return rc;
}

static inline ssize_t vpread(int fd, void *buf, size_t len, off_t off)
{
	struct sio_file *file = sio_file_lookup(fd);
	ssize_t rc;

	if (!file)
		return -EBADF;
	rc = sio_file_pread(file, buf, len, off);
	sio_file_put(file);
	return rc;
}

static inline ssize_t vpwrite(int fd, const void *buf, size_t len, off_t off)
{
	struct sio_file *file = sio_file_lookup(fd);
	ssize_t rc;

	if (!file)
		return -EBADF;
	rc = sio_file_pwrite(file, buf, len, off);
	sio_file_put(file);
	return rc;
}

static inline void vclose(int fd)
{
	assert_int_equal(sio_file_close(fd), 0);
}

static inline uint32_t cfg_rd(int dfd, uint32_t off, size_t size)
{
	uint32_t v = 0;

	assert_int_equal(vpread(dfd, &v, size, T_CFG + off), (ssize_t)size);
	return v;
}

static inline void cfg_wr(int dfd, uint32_t off, size_t size, uint32_t v)
{
	assert_int_equal(vpwrite(dfd, &v, size, T_CFG + off), (ssize_t)size);
}

static inline uint64_t bar_rd(int dfd, int bar, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(vpread(dfd, &v, 8, T_REGION(bar) + (off_t)off), 8);
	return v;
}

static inline void bar_wr(int dfd, int bar, uint64_t off, uint64_t v)
{
	assert_int_equal(vpwrite(dfd, &v, 8, T_REGION(bar) + (off_t)off), 8);
}

/* Bind a cdev to iommufd fd ifd; returns the device ID. */
static inline uint32_t cdev_bind(int cfd, int ifd)
{
	struct sio_vfio_device_bind_iommufd b = {
		.argsz = sizeof(b), .iommufd = ifd,
	};

	assert_int_equal(vio(cfd, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	return b.out_devid;
}

static inline uint32_t ioas_alloc(int ifd)
{
	struct iommu_ioas_alloc c = { .size = sizeof(c) };

	assert_int_equal(vio(ifd, IOMMU_IOAS_ALLOC, &c), 0);
	return c.out_ioas_id;
}

static inline void ioas_map(int ifd, uint32_t ioas, void *p, size_t len,
		     uint64_t iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)p,
		.length = len,
		.iova = iova,
	};

	assert_int_equal(vio(ifd, IOMMU_IOAS_MAP, &m), 0);
}

static inline long attach_pt(int cfd, uint32_t *pt_id)
{
	struct sio_vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a), .pt_id = *pt_id,
	};
	long rc = vio(cfd, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

	*pt_id = a.pt_id;
	return rc;
}

/* Ring the model's doorbell: copy 64 bytes src -> dst, raise vector. */
static inline void doorbell(int dfd, uint64_t src, uint64_t dst, uint64_t vector)
{
	bar_wr(dfd, 0, T_REG_SRC, src);
	bar_wr(dfd, 0, T_REG_DST, dst);
	bar_wr(dfd, 0, T_REG_VECTOR, vector);
	bar_wr(dfd, 0, T_REG_DOORBELL, 1);
}

static inline void bus_master(int dfd, bool on)
{
	uint32_t cmd = cfg_rd(dfd, PCI_COMMAND, 2);

	cmd = on ? (cmd | PCI_COMMAND_MASTER) : (cmd & ~PCI_COMMAND_MASTER);
	cfg_wr(dfd, PCI_COMMAND, 2, cmd);
}

/* The value an eventfd holds now (0: nothing), without blocking. */
static inline uint64_t efd_take(int efd)
{
	uint64_t v = 0;
	int fl = fcntl(efd, F_GETFL);

	fcntl(efd, F_SETFL, fl | O_NONBLOCK);
	if (read(efd, &v, sizeof(v)) != sizeof(v))
		v = 0;
	fcntl(efd, F_SETFL, fl);
	return v;
}

#endif
