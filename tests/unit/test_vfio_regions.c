/*
 * The VFIO device fd's regions: GET_INFO, GET_REGION_INFO with the MSI-X
 * capability chain, config space (what the program sees and may write),
 * BAR access by pread/pwrite and read/write with the kernel's range and
 * width rules, RESET with config saved and restored, FLR through config
 * space, and the ioctls answered only with errors (hot reset, ioeventfd,
 * features).
 */
#include "test_vfio_model.h"

/* Whether BARs can be mmapped (MMIO traps, softiommu/mmio.h). */
#define BARS_MMAP 1

struct rfx {
	struct vfx *f;
	int dfd, ifd;
};

static int rfx_setup(void **state)
{
	struct rfx *r = calloc(1, sizeof(*r));
	void *vs;

	vfx_setup(&vs);
	r->f = vs;
	r->ifd = sio_iommufd_open_fd(r->f->host, O_RDWR);
	r->dfd = sio_vfio_open_cdev(r->f->vfio, 0, O_RDWR);
	assert_true(r->dfd >= 0);
	cdev_bind(r->dfd, r->ifd);
	*state = r;
	return 0;
}

static int rfx_teardown(void **state)
{
	struct rfx *r = *state;
	void *vs = r->f;

	sio_file_close(r->dfd);
	sio_file_close(r->ifd);
	vfx_teardown(&vs);
	free(r);
	return 0;
}

static long region_info(int dfd, uint32_t index,
			struct sio_vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return vio(dfd, SIO_VFIO_DEVICE_GET_REGION_INFO, ri);
}

static uint32_t find_cap(int dfd, uint8_t id)
{
	uint32_t pos = cfg_rd(dfd, PCI_CAPABILITY_LIST, 1);

	for (int n = 0; pos && n < 48; n++) {
		if (cfg_rd(dfd, pos, 1) == id)
			return pos;
		pos = cfg_rd(dfd, pos + 1, 1);
	}
	return 0;
}

static void device_info(void **state)
{
	struct rfx *r = *state;
	struct {
		struct sio_vfio_device_info i;
		uint32_t canary;
	} b;

	memset(&b, 0xee, sizeof(b));
	b.i.argsz = sizeof(b.i);
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_GET_INFO, &b), 0);
	assert_int_equal(b.i.flags, SIO_VFIO_DEVICE_FLAGS_PCI |
				    SIO_VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(b.i.num_regions, 9);
	assert_int_equal(b.i.num_irqs, 5);
	assert_int_equal(b.i.cap_offset, 0);
	assert_int_equal(b.canary, 0xeeeeeeee);

	/* argsz up to num_irqs; a shorter buffer gets only argsz bytes. */
	memset(&b, 0xee, sizeof(b));
	b.i.argsz = 12;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_GET_INFO, &b), -EINVAL);
	b.i.argsz = 16;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_GET_INFO, &b), 0);
	assert_int_equal(b.i.num_irqs, 5);
	assert_int_equal(b.i.cap_offset, 0xeeeeeeee);
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_GET_INFO, (void *)8),
			 -EFAULT);
	assert_int_equal(vio_n(r->dfd, 0x4242, 0), -ENOTTY);
	/* BIND again on the bound fd, ATTACH on it: the cdev rules. */
	{
		struct sio_vfio_device_bind_iommufd bb = {
			.argsz = sizeof(bb), .iommufd = r->ifd,
		};

		assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_BIND_IOMMUFD, &bb),
				 -EINVAL);
	}
}

static void regions(void **state)
{
	struct rfx *r = *state;
	struct sio_vfio_region_info ri;
	struct {
		struct sio_vfio_region_info ri;
		struct sio_vfio_info_cap_header cap;
	} rc;

	assert_int_equal(region_info(r->dfd, 0, &ri), 0);
	assert_int_equal(ri.size, 16384);
	assert_int_equal(ri.offset, 0);
	assert_true(ri.flags & SIO_VFIO_REGION_INFO_FLAG_READ);
	assert_true(ri.flags & SIO_VFIO_REGION_INFO_FLAG_WRITE);
	if (!BARS_MMAP) {
		/* No MMIO traps in this build: no BAR is mmappable, and
		 * the MSI-X capability only comes with mmap. */
		assert_int_equal(ri.flags, SIO_VFIO_REGION_INFO_FLAG_READ |
					   SIO_VFIO_REGION_INFO_FLAG_WRITE);
		assert_int_equal(ri.argsz, sizeof(ri));
		assert_int_equal(region_info(r->dfd, 2, &ri), 0);
		assert_false(ri.flags & SIO_VFIO_REGION_INFO_FLAG_MMAP);
		return;
	}
	/* BAR0 holds the MSI-X table: a capability follows, and a buffer
	 * of the bare structure is told to grow. */
	assert_true(ri.flags & SIO_VFIO_REGION_INFO_FLAG_MMAP);
	assert_true(ri.flags & SIO_VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(ri.argsz, sizeof(ri) + 8);
	assert_int_equal(ri.cap_offset, 0);
	memset(&rc, 0, sizeof(rc));
	rc.ri.argsz = sizeof(rc);
	rc.ri.index = 0;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_GET_REGION_INFO, &rc), 0);
	assert_int_equal(rc.ri.argsz, sizeof(rc));
	assert_int_equal(rc.ri.cap_offset, sizeof(rc.ri));
	assert_int_equal(rc.cap.id, SIO_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
	assert_int_equal(rc.cap.version, 1);
	assert_int_equal(rc.cap.next, 0);

	/* The upper half of the 64-bit BAR0 is no region. */
	assert_int_equal(region_info(r->dfd, 1, &ri), 0);
	assert_int_equal(ri.size, 0);
	assert_int_equal(ri.flags, 0);
	assert_int_equal(ri.offset, (uint64_t)1 << 40);

	assert_int_equal(region_info(r->dfd, 2, &ri), 0);
	assert_int_equal(ri.size, 4096);
	assert_int_equal(ri.offset, (uint64_t)2 << 40);
	assert_false(ri.flags & SIO_VFIO_REGION_INFO_FLAG_CAPS);
	assert_true(ri.flags & SIO_VFIO_REGION_INFO_FLAG_MMAP);
	assert_true(ri.flags & SIO_VFIO_REGION_INFO_FLAG_READ);

	/* An I/O BAR is never mmappable. */
	assert_int_equal(region_info(r->dfd, 4, &ri), 0);
	assert_int_equal(ri.size, 32);
	assert_int_equal(ri.flags, SIO_VFIO_REGION_INFO_FLAG_READ |
				   SIO_VFIO_REGION_INFO_FLAG_WRITE);
	assert_int_equal(region_info(r->dfd, 5, &ri), 0);
	assert_int_equal(ri.size, 0);

	assert_int_equal(region_info(r->dfd, SIO_VFIO_PCI_ROM_REGION_INDEX, &ri),
			 0);
	assert_int_equal(ri.size, 0);
	assert_int_equal(ri.flags, 0);

	/* Config space: read/write, never mmap. */
	assert_int_equal(region_info(r->dfd, SIO_VFIO_PCI_CONFIG_REGION_INDEX,
				     &ri), 0);
	assert_int_equal(ri.size, 4096);
	assert_int_equal(ri.offset, (uint64_t)7 << 40);
	assert_int_equal(ri.flags, SIO_VFIO_REGION_INFO_FLAG_READ |
				   SIO_VFIO_REGION_INFO_FLAG_WRITE);

	assert_int_equal(region_info(r->dfd, SIO_VFIO_PCI_VGA_REGION_INDEX, &ri),
			 -EINVAL);
	assert_int_equal(region_info(r->dfd, 9, &ri), -EINVAL);
	memset(&ri, 0, sizeof(ri));
	ri.argsz = 31;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_GET_REGION_INFO, &ri),
			 -EINVAL);
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_GET_REGION_INFO,
			     (void *)8), -EFAULT);
}

static void config_space(void **state)
{
	struct rfx *r = *state;
	uint32_t bar2, cmd, msix, pos, devctl;
	uint8_t big[8];

	assert_int_equal(cfg_rd(r->dfd, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_rd(r->dfd, PCI_DEVICE_ID, 2), 0x10f0);
	assert_int_equal(cfg_rd(r->dfd, 0, 4), 0x10f01af4);
	/* Read-only IDs stay. */
	cfg_wr(r->dfd, PCI_VENDOR_ID, 2, 0x1234);
	assert_int_equal(cfg_rd(r->dfd, PCI_VENDOR_ID, 2), 0x1af4);
	/* Opened as vfio-pci enables it: memory and I/O decode, no Bus
	 * Master. */
	cmd = cfg_rd(r->dfd, PCI_COMMAND, 2);
	assert_true(cmd & PCI_COMMAND_MEMORY);
	assert_true(cmd & PCI_COMMAND_IO);
	assert_false(cmd & PCI_COMMAND_MASTER);
	bus_master(r->dfd, true);
	assert_true(cfg_rd(r->dfd, PCI_COMMAND, 2) & PCI_COMMAND_MASTER);
	bus_master(r->dfd, false);
	assert_false(cfg_rd(r->dfd, PCI_COMMAND, 2) & PCI_COMMAND_MASTER);

	/* BAR sizing. */
	cfg_wr(r->dfd, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	bar2 = cfg_rd(r->dfd, PCI_BASE_ADDRESS_2, 4);
	assert_int_equal(bar2 & PCI_BASE_ADDRESS_MEM_MASK, 0xfffff000);
	cfg_wr(r->dfd, PCI_BASE_ADDRESS_2, 4, 0xfe001000);
	assert_int_equal(cfg_rd(r->dfd, PCI_BASE_ADDRESS_2, 4) &
			 PCI_BASE_ADDRESS_MEM_MASK, 0xfe001000);

	/* The MSI-X capability is VFIO's: the program cannot enable it. */
	msix = find_cap(r->dfd, PCI_CAP_ID_MSIX);
	assert_true(msix);
	cfg_wr(r->dfd, msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	assert_false(cfg_rd(r->dfd, msix + PCI_MSIX_FLAGS, 2) &
		     PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(cfg_rd(r->dfd, msix + PCI_MSIX_FLAGS, 2) &
			 PCI_MSIX_FLAGS_QSIZE, 3);
	/* Nor MSI. */
	pos = find_cap(r->dfd, PCI_CAP_ID_MSI);
	assert_true(pos);
	cfg_wr(r->dfd, pos + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	assert_false(cfg_rd(r->dfd, pos + PCI_MSI_FLAGS, 2) &
		     PCI_MSI_FLAGS_ENABLE);
	/* PCI Express Device Control other than FLR is the program's. */
	pos = find_cap(r->dfd, PCI_CAP_ID_EXP);
	assert_true(pos);
	devctl = cfg_rd(r->dfd, pos + PCI_EXP_DEVCTL, 2);
	cfg_wr(r->dfd, pos + PCI_EXP_DEVCTL, 2, devctl ^ PCI_EXP_DEVCTL_RELAX_EN);
	assert_int_equal(cfg_rd(r->dfd, pos + PCI_EXP_DEVCTL, 2),
			 devctl ^ PCI_EXP_DEVCTL_RELAX_EN);

	/* The rest of the capability is read-only to the program. */
	{
		uint32_t lnk = cfg_rd(r->dfd, pos + PCI_EXP_LNKCTL, 2);

		cfg_wr(r->dfd, pos + PCI_EXP_LNKCTL, 2, ~lnk & 0xffff);
		assert_int_equal(cfg_rd(r->dfd, pos + PCI_EXP_LNKCTL, 2), lnk);
	}
	/* So are extended capabilities: function 0's PASID. */
	{
		uint32_t h = cfg_rd(r->dfd, 0x100, 4), ctl;

		assert_int_equal(h & 0xffff, PCI_EXT_CAP_ID_PASID);
		ctl = cfg_rd(r->dfd, 0x100 + PCI_PASID_CTRL, 2);
		cfg_wr(r->dfd, 0x100 + PCI_PASID_CTRL, 2,
		       ctl | PCI_PASID_CTRL_ENABLE);
		assert_int_equal(cfg_rd(r->dfd, 0x100 + PCI_PASID_CTRL, 2), ctl);
		/* The function itself takes the write: VFIO held it back. */
		assert_int_equal(sio_pci_config_write(r->f->pdev[0],
						      0x100 + PCI_PASID_CTRL, 2,
						      ctl | PCI_PASID_CTRL_ENABLE),
				 0);
		assert_true(cfg_rd(r->dfd, 0x100 + PCI_PASID_CTRL, 2) &
			    PCI_PASID_CTRL_ENABLE);
	}

	/* Odd sizes and alignments are cut in pieces. */
	memset(big, 0, sizeof(big));
	assert_int_equal(vpread(r->dfd, big, 7, T_CFG + 1), 7);
	assert_int_equal(big[0], 0x1a);
	assert_int_equal(big[1], 0xf0);
	assert_int_equal(big[2], 0x10);

	/* Outside config space: the kernel's EFAULT. */
	assert_int_equal(vpread(r->dfd, big, 4, T_CFG + 4096), -EFAULT);
	assert_int_equal(vpread(r->dfd, big, 8, T_CFG + 4092), -EFAULT);
	assert_int_equal(vpwrite(r->dfd, big, 8, T_CFG + 4092), -EFAULT);
	assert_int_equal(vpread(r->dfd, (void *)8, 4, T_CFG), -EFAULT);
	assert_int_equal(vpwrite(r->dfd, (void *)8, 4, T_CFG), -EFAULT);
	assert_int_equal(vpread(r->dfd, big, 0, T_CFG), 0);
}

static void bars(void **state)
{
	struct rfx *r = *state;
	uint64_t v, tab[2];
	uint8_t b[16];
	uint32_t cmd;

	bar_wr(r->dfd, 0, T_REG_SCRATCH, 0x1122334455667788ull);
	assert_int_equal(bar_rd(r->dfd, 0, T_REG_SCRATCH), 0x1122334455667788ull);
	assert_int_equal(r->f->m[0].scratch, 0x1122334455667788ull);
	assert_int_equal(bar_rd(r->dfd, 0, T_REG_ID), T_ID);
	/* A 4-byte write at 4 reaches the register as one access. */
	v = 0;
	assert_int_equal(vpread(r->dfd, &v, 4, T_REGION(0) + T_REG_ID), 4);
	assert_int_equal(v, T_ID);
	/* 16 bytes from 0: two 8-byte accesses. */
	assert_int_equal(vpread(r->dfd, b, 16, T_REGION(0)), 16);
	memcpy(&v, b + 8, 8);
	assert_int_equal(v, T_ID);

	/* The end of the BAR clips; past it EINVAL. */
	assert_int_equal(vpread(r->dfd, b, 16, T_REGION(0) + 16384 - 8), 8);
	assert_int_equal(vpread(r->dfd, b, 8, T_REGION(0) + 16384), -EINVAL);
	assert_int_equal(vpread(r->dfd, b, 8, T_REGION(1)), -EINVAL);
	assert_int_equal(vpread(r->dfd, b, 8, T_REGION(5)), -EINVAL);
	/* BAR2 and the I/O BAR reach the model too. */
	assert_int_equal(bar_rd(r->dfd, 2, 0), 0x11);
	assert_int_equal(vpread(r->dfd, b, 4, T_REGION(4) + 28), 4);
	assert_int_equal(b[0], 0x11);
	assert_int_equal(vpread(r->dfd, b, 8, T_REGION(4) + 32), -EINVAL);

	/* The MSI-X table is not reached this way: 0xff, writes dropped. */
	assert_int_equal(vpread(r->dfd, tab, 16, T_REGION(0) + T_MSIX_TABLE),
			 16);
	assert_int_equal(tab[0], UINT64_MAX);
	tab[0] = 0;
	assert_int_equal(vpwrite(r->dfd, tab, 8, T_REGION(0) + T_MSIX_TABLE), 8);
	assert_int_equal(sio_pci_bar_read(r->f->pdev[0], 0, T_MSIX_TABLE + 12,
					  4, &v), 0);
	assert_int_equal(v & PCI_MSIX_ENTRY_CTRL_MASKBIT, 1);
	/* The PBA is. */
	assert_int_equal(vpread(r->dfd, &v, 8, T_REGION(0) + T_MSIX_PBA), 8);
	assert_int_equal(v, 0);

	/* ROM, VGA and regions past 8: EINVAL. */
	assert_int_equal(vpread(r->dfd, b, 4, T_REGION(6)), -EINVAL);
	assert_int_equal(vpwrite(r->dfd, b, 4, T_REGION(6)), -EINVAL);
	assert_int_equal(vpread(r->dfd, b, 4, T_REGION(8) + 0x3c0), -EINVAL);
	assert_int_equal(vpread(r->dfd, b, 4, T_REGION(9)), -EINVAL);
	assert_int_equal(vpread(r->dfd, b, 4, -1), -EINVAL);
	assert_int_equal(vpread(r->dfd, (void *)8, 8, T_REGION(0)), -EFAULT);
	assert_int_equal(vpwrite(r->dfd, (void *)8, 8, T_REGION(0)), -EFAULT);

	/* Memory decode off: memory BARs are EIO, the I/O BAR is not. */
	cmd = cfg_rd(r->dfd, PCI_COMMAND, 2);
	cfg_wr(r->dfd, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MEMORY);
	assert_int_equal(vpread(r->dfd, b, 8, T_REGION(0)), -EIO);
	assert_int_equal(vpwrite(r->dfd, b, 8, T_REGION(2)), -EIO);
	assert_int_equal(vpread(r->dfd, b, 4, T_REGION(4)), 4);
	cfg_wr(r->dfd, PCI_COMMAND, 2, cmd);
	assert_int_equal(bar_rd(r->dfd, 0, T_REG_ID), T_ID);
}

/* read() and write() work at the file position, which starts at BAR0. */
static void stream_ops(void **state)
{
	struct rfx *r = *state;
	struct sio_file *file = sio_file_lookup(r->dfd);
	uint64_t v = 0xabcdef;
	struct sio_file *ifile = sio_file_lookup(r->ifd);
	char c;

	assert_int_equal(sio_file_write(file, &v, 8), 8);
	assert_int_equal(r->f->m[0].scratch, 0xabcdef);
	assert_int_equal(sio_file_read(file, &v, 8), 8);
	assert_int_equal(v, T_ID);
	/* Files without positioned ops are streams. */
	assert_int_equal(sio_file_pread(ifile, &c, 1, 0), -ESPIPE);
	assert_int_equal(sio_file_pwrite(ifile, &c, 1, 8), -ESPIPE);
	assert_int_equal(sio_file_pread(file, &c, 1, -5), -EINVAL);
	sio_file_put(ifile);
	sio_file_put(file);
}

static void reset(void **state)
{
	struct rfx *r = *state;
	struct sio_vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t cmd, pos, devctl;
	unsigned int resets = r->f->m[0].resets;

	bar_wr(r->dfd, 0, T_REG_SCRATCH, 42);
	cfg_wr(r->dfd, PCI_BASE_ADDRESS_2, 4, 0xfe002000);
	bus_master(r->dfd, true);
	cmd = cfg_rd(r->dfd, PCI_COMMAND, 2);
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_GET_INFO, &info), 0);
	assert_true(info.flags & SIO_VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(vio_n(r->dfd, SIO_VFIO_DEVICE_RESET, 0), 0);
	/* The device starts over; its config space is the program's. */
	assert_int_equal(r->f->m[0].resets, resets + 1);
	assert_int_equal(bar_rd(r->dfd, 0, T_REG_SCRATCH), 0);
	assert_int_equal(cfg_rd(r->dfd, PCI_COMMAND, 2), cmd);
	assert_int_equal(cfg_rd(r->dfd, PCI_BASE_ADDRESS_2, 4) &
			 PCI_BASE_ADDRESS_MEM_MASK, 0xfe002000);

	/* FLR through PCI Express Device Control is the same reset. */
	bar_wr(r->dfd, 0, T_REG_SCRATCH, 43);
	pos = find_cap(r->dfd, PCI_CAP_ID_EXP);
	devctl = cfg_rd(r->dfd, pos + PCI_EXP_DEVCTL, 2);
	cfg_wr(r->dfd, pos + PCI_EXP_DEVCTL, 2, devctl | PCI_EXP_DEVCTL_BCR_FLR);
	assert_int_equal(r->f->m[0].resets, resets + 2);
	assert_int_equal(bar_rd(r->dfd, 0, T_REG_SCRATCH), 0);
	assert_int_equal(cfg_rd(r->dfd, PCI_COMMAND, 2), cmd);
	assert_false(cfg_rd(r->dfd, pos + PCI_EXP_DEVCTL, 2) &
		     PCI_EXP_DEVCTL_BCR_FLR);
}

/* Closing the device fd resets the function and turns decode off. */
static void close_resets(void **state)
{
	struct rfx *r = *state;
	uint32_t cmd = 0;
	unsigned int resets = r->f->m[0].resets;

	bar_wr(r->dfd, 0, T_REG_SCRATCH, 7);
	bus_master(r->dfd, true);
	vclose(r->dfd);
	assert_int_equal(r->f->m[0].resets, resets + 1);
	assert_int_equal(r->f->m[0].scratch, 0);
	assert_int_equal(sio_pci_config_read(r->f->pdev[0], PCI_COMMAND, 2,
					     &cmd), 0);
	assert_int_equal(cmd & (PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY), 0);
	r->dfd = sio_vfio_open_cdev(r->f->vfio, 0, O_RDWR);
	cdev_bind(r->dfd, r->ifd);
}

static void unsupported(void **state)
{
	struct rfx *r = *state;
	struct sio_vfio_pci_hot_reset_info hi = { .argsz = sizeof(hi) };
	struct sio_vfio_pci_hot_reset hr = { .argsz = sizeof(hr) };
	struct sio_vfio_device_feature ft = { .argsz = sizeof(ft) };
	struct sio_vfio_device_ioeventfd ev = {
		.argsz = sizeof(ev), .flags = SIO_VFIO_DEVICE_IOEVENTFD_32,
		.offset = 0x100, .fd = -1,
	};

	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hi),
			 -ENODEV);
	hi.argsz = 8;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hi),
			 -EINVAL);
	/* A cdev passes no group fds. */
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_PCI_HOT_RESET, &hr), -ENODEV);
	hr.count = 1;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_PCI_HOT_RESET, &hr), -EINVAL);
	hr.count = 0;
	hr.flags = 1;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_PCI_HOT_RESET, &hr), -EINVAL);

	ft.flags = SIO_VFIO_DEVICE_FEATURE_GET | SIO_VFIO_DEVICE_FEATURE_MIGRATION;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_FEATURE, &ft), -ENOTTY);
	ft.flags = SIO_VFIO_DEVICE_FEATURE_PROBE |
		   SIO_VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_FEATURE, &ft), -ENOTTY);
	ft.flags = SIO_VFIO_DEVICE_FEATURE_GET | SIO_VFIO_DEVICE_FEATURE_SET;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_FEATURE, &ft), -EINVAL);
	ft.flags = 1u << 20;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_FEATURE, &ft), -EINVAL);
	ft.flags = 0;
	ft.argsz = 4;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_FEATURE, &ft), -EINVAL);

	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_IOEVENTFD, &ev), -ENODEV);
	ev.fd = 5;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_IOEVENTFD, &ev), -EOPNOTSUPP);
	ev.offset = T_MSIX_TABLE + 4;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_IOEVENTFD, &ev), -EINVAL);
	ev.offset = T_REGION(7);
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_IOEVENTFD, &ev), -EINVAL);
	ev.offset = 16384 - 2;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_IOEVENTFD, &ev), -EINVAL);
	ev.offset = 0;
	ev.flags = SIO_VFIO_DEVICE_IOEVENTFD_32 | SIO_VFIO_DEVICE_IOEVENTFD_8;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_IOEVENTFD, &ev), -EINVAL);
	ev.flags = SIO_VFIO_DEVICE_IOEVENTFD_8;
	ev.fd = -2;
	assert_int_equal(vio(r->dfd, SIO_VFIO_DEVICE_IOEVENTFD, &ev), -EINVAL);
}

static int fmmap(int fd, void **addr, size_t len, int prot, int flags,
		 off_t off)
{
	struct sio_file *file = sio_file_lookup(fd);
	int rc;

	if (!file)
		return -EBADF;
	rc = sio_file_mmap(file, addr, len, prot, flags, off);
	sio_file_put(file);
	return rc;
}

/* munmap(2) as the shim does it: the file layer follows the mapping. */
static void funmap(void *addr, size_t len)
{
	assert_int_equal(munmap(addr, len), 0);
	sio_file_munmap(addr, len);
}

/* BARs mmapped: plain loads and stores reach the function. */
static void bar_mmap(void **state)
{
	struct rfx *r = *state;
	const int rw = PROT_READ | PROT_WRITE;
	volatile uint64_t *bar0;
	volatile uint32_t *ctl;
	void *p = NULL, *res;
	uint32_t cmd;
	uint64_t v;

	assert_int_equal(fmmap(r->dfd, &p, 16384, rw, MAP_SHARED, T_REGION(0)),
			 0);
	bar0 = p;
	assert_int_equal(bar0[T_REG_ID / 8], T_ID);
	bar0[T_REG_SCRATCH / 8] = 0x0123456789abcdefull;
	assert_int_equal(r->f->m[0].scratch, 0x0123456789abcdefull);
	assert_int_equal(*(volatile uint32_t *)p, 0x89abcdef);
	/* The MSI-X table is mapped too (MSIX_MAPPABLE): vector 0 unmasks. */
	ctl = (volatile uint32_t *)((char *)p + T_MSIX_TABLE + 12);
	assert_int_equal(*ctl, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	*ctl = 0;
	assert_int_equal(sio_pci_bar_read(r->f->pdev[0], 0, T_MSIX_TABLE + 12,
					  4, &v), 0);
	assert_int_equal(v, 0);
	/* Memory decode off: loads read all ones, stores are dropped. */
	cmd = cfg_rd(r->dfd, PCI_COMMAND, 2);
	cfg_wr(r->dfd, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MEMORY);
	assert_int_equal(bar0[T_REG_ID / 8], UINT64_MAX);
	bar0[T_REG_SCRATCH / 8] = 5;
	assert_int_equal(r->f->m[0].scratch, 0x0123456789abcdefull);
	cfg_wr(r->dfd, PCI_COMMAND, 2, cmd);
	funmap(p, 16384);

	/* The selftests' way: MAP_FIXED over a reservation, part of a BAR
	 * at a page offset. */
	res = mmap(NULL, 4 * T_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	assert_true(res != MAP_FAILED);
	p = res;
	assert_int_equal(fmmap(r->dfd, &p, T_PAGE, rw, MAP_SHARED | MAP_FIXED,
			       T_REGION(0) + (off_t)(2 * T_PAGE)), 0);
	assert_ptr_equal(p, res);
	/* BAR0 offset 0x2000: the table; vector 0 unmasked above, 1 not. */
	assert_int_equal(*(volatile uint32_t *)((char *)p + 12), 0);
	assert_int_equal(*(volatile uint32_t *)((char *)p + 16 + 12),
			 PCI_MSIX_ENTRY_CTRL_MASKBIT);
	funmap(p, T_PAGE);
	munmap(res, 4 * T_PAGE);

	/* Read-only: stores are dropped. */
	p = NULL;
	assert_int_equal(fmmap(r->dfd, &p, 4096, PROT_READ, MAP_SHARED,
			       T_REGION(2)), 0);
	assert_int_equal(*(volatile uint32_t *)p, 0x11);
	funmap(p, 4096);
	p = NULL;
	assert_int_equal(fmmap(r->dfd, &p, 16384, PROT_READ, MAP_SHARED,
			       T_REGION(0)), 0);
	((volatile uint64_t *)p)[0] = 9;
	assert_int_equal(r->f->m[0].scratch, 0x0123456789abcdefull);
	funmap(p, 16384);
}

static void bar_mmap_errors(void **state)
{
	struct rfx *r = *state;
	const int rw = PROT_READ | PROT_WRITE;
	void *p = NULL;

	assert_int_equal(fmmap(r->dfd, &p, 4096, rw, MAP_PRIVATE, T_REGION(0)),
			 -EINVAL);
	assert_int_equal(fmmap(r->dfd, &p, 4096, rw, MAP_SHARED, T_CFG),
			 -EINVAL);
	assert_int_equal(fmmap(r->dfd, &p, 4096, rw, MAP_SHARED,
			       T_REGION(6)), -EINVAL);
	assert_int_equal(fmmap(r->dfd, &p, 4096, rw, MAP_SHARED,
			       T_REGION(9)), -EINVAL);
	/* The upper half of BAR0, an absent BAR, the I/O BAR. */
	assert_int_equal(fmmap(r->dfd, &p, 4096, rw, MAP_SHARED,
			       T_REGION(1)), -EINVAL);
	assert_int_equal(fmmap(r->dfd, &p, 4096, rw, MAP_SHARED,
			       T_REGION(5)), -EINVAL);
	assert_int_equal(fmmap(r->dfd, &p, 4096, rw, MAP_SHARED,
			       T_REGION(4)), -EINVAL);
	/* Past the BAR, an offset off a page. */
	assert_int_equal(fmmap(r->dfd, &p, 8192, rw, MAP_SHARED, T_REGION(2)),
			 -EINVAL);
	assert_int_equal(fmmap(r->dfd, &p, 16384, rw, MAP_SHARED,
			       T_REGION(0) + 4096), -EINVAL);
	assert_int_equal(fmmap(r->dfd, &p, 4096, rw, MAP_SHARED,
			       T_REGION(0) + 8), -EINVAL);
	assert_int_equal(fmmap(r->dfd, &p, 0, rw, MAP_SHARED, T_REGION(0)),
			 -EINVAL);
}

/* A mapping holds the device file, as a VMA holds the file: closing the
 * fd leaves the device open until the mapping goes. */
static void mapping_outlives_fd(void **state)
{
	struct rfx *r = *state;
	unsigned int resets = r->f->m[0].resets;
	void *p = NULL;

	assert_int_equal(fmmap(r->dfd, &p, 16384, PROT_READ | PROT_WRITE,
			       MAP_SHARED, T_REGION(0)), 0);
	vclose(r->dfd);
	assert_int_equal(((volatile uint64_t *)p)[T_REG_ID / 8], T_ID);
	assert_int_equal(r->f->m[0].resets, resets);
	funmap(p, 16384);
	/* The last reference went: the device was closed and reset. */
	assert_int_equal(r->f->m[0].resets, resets + 1);
	r->dfd = sio_vfio_open_cdev(r->f->vfio, 0, O_RDWR);
	cdev_bind(r->dfd, r->ifd);
}

/* Random arguments to every VFIO number, on the device, group and cdev
 * fds: errors, never a crash. */
static void garbage(void **state)
{
	struct rfx *r = *state;
	uint32_t buf[64];
	unsigned int seed = 12345;
	int grp = sio_vfio_open_group(r->f->vfio, 1, O_RDWR);
	int cdev = sio_vfio_open_cdev(r->f->vfio, 1, O_RDWR);
	const int fds[] = { r->dfd, grp, cdev };

	assert_true(grp >= 0 && cdev >= 0);
	for (int round = 0; round < 200; round++) {
		for (unsigned int i = 0; i < 64; i++)
			buf[i] = (uint32_t)rand_r(&seed);
		/* Small sizes and indexes now and then, to get further in. */
		if (round % 2) {
			buf[0] = 8 + buf[0] % 64;
			buf[2] %= 12;
			buf[3] %= 8;
			buf[4] %= 8;
		}
		for (unsigned int n = 0; n <= 25; n++) {
			unsigned int cmd = _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + n);

			for (unsigned int k = 0; k < 3; k++) {
				long rc = vio(fds[k], cmd, buf);

				/* A group may hand out a device fd. */
				if (rc > 0 && n == 6)
					vclose((int)rc);
				vio(fds[k], cmd, (void *)8);
				vio_n(fds[k], cmd, buf[1]);
			}
		}
	}
	vclose(grp);
	vclose(cdev);
	/* The device is still usable. */
	assert_int_equal(bar_rd(r->dfd, 0, T_REG_ID), T_ID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(device_info, rfx_setup,
						rfx_teardown),
		cmocka_unit_test_setup_teardown(regions, rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(config_space, rfx_setup,
						rfx_teardown),
		cmocka_unit_test_setup_teardown(bars, rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(stream_ops, rfx_setup,
						rfx_teardown),
		cmocka_unit_test_setup_teardown(reset, rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(close_resets, rfx_setup,
						rfx_teardown),
		cmocka_unit_test_setup_teardown(unsupported, rfx_setup,
						rfx_teardown),
		cmocka_unit_test_setup_teardown(bar_mmap, rfx_setup, rfx_teardown),
		cmocka_unit_test_setup_teardown(bar_mmap_errors, rfx_setup,
						rfx_teardown),
		cmocka_unit_test_setup_teardown(mapping_outlives_fd, rfx_setup,
						rfx_teardown),
		cmocka_unit_test_setup_teardown(garbage, rfx_setup, rfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
