/*
 * Config-space helpers for tests of PCI functions (softiommu/pci.h): a
 * read and a write that must succeed, and the capability walk a driver
 * makes.
 */
#ifndef SIO_TEST_PCI_HELPERS_H
#define SIO_TEST_PCI_HELPERS_H

#include <linux/pci_regs.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "softiommu/pci.h"

static inline uint32_t t_cfg_rd(struct sio_pci_dev *pdev, uint32_t off,
				unsigned int size)
{
	uint32_t v = 0xdeadbeef;

	assert_int_equal(sio_pci_config_read(pdev, off, size, &v), 0);
	return v;
}

static inline void t_cfg_wr(struct sio_pci_dev *pdev, uint32_t off,
			    unsigned int size, uint32_t v)
{
	assert_int_equal(sio_pci_config_write(pdev, off, size, v), 0);
}

/* The offset of capability id, walking the list as a driver does; 0 if
 * the function does not have it. */
static inline uint32_t t_find_cap(struct sio_pci_dev *pdev, uint8_t id)
{
	uint32_t pos = t_cfg_rd(pdev, PCI_CAPABILITY_LIST, 1);

	for (int n = 0; pos && n < 48; n++) {
		if (t_cfg_rd(pdev, pos, 1) == id)
			return pos;
		pos = t_cfg_rd(pdev, pos + 1, 1);
	}
	return 0;
}

#endif
