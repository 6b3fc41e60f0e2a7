/*
 * VFIO device interrupts: GET_IRQ_INFO per index, SET_IRQS for MSI-X, MSI,
 * INTx, ERR and REQ with eventfds, loopback triggers, teardown of one
 * vector and of an index, the argument rules and bad eventfds, interrupts
 * across a reset and the close of the device fd.  The vfio_pci_device_test
 * selftest's enable_trigger_disable is the first case.
 */
#include "test_vfio_model.h"

struct ifx {
	struct vfx *f;
	int dfd[2], ifd;
	int efd[4];
};

static int ifx_setup(void **state)
{
	struct ifx *x = calloc(1, sizeof(*x));
	void *vs;

	vfx_setup(&vs);
	x->f = vs;
	x->ifd = sio_iommufd_open_fd(x->f->host, O_RDWR);
	for (int i = 0; i < 2; i++) {
		x->dfd[i] = sio_vfio_open_cdev(x->f->vfio, i, O_RDWR);
		assert_true(x->dfd[i] >= 0);
		cdev_bind(x->dfd[i], x->ifd);
	}
	for (int i = 0; i < 4; i++) {
		x->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(x->efd[i] >= 0);
	}
	*state = x;
	return 0;
}

static int ifx_teardown(void **state)
{
	struct ifx *x = *state;
	void *vs = x->f;

	for (int i = 0; i < 2; i++)
		if (x->dfd[i] >= 0)
			sio_file_close(x->dfd[i]);
	sio_file_close(x->ifd);
	for (int i = 0; i < 4; i++)
		close(x->efd[i]);
	vfx_teardown(&vs);
	free(x);
	return 0;
}

static long irq_info(int dfd, uint32_t index, struct sio_vfio_irq_info *ii)
{
	memset(ii, 0, sizeof(*ii));
	ii->argsz = sizeof(*ii);
	ii->index = index;
	return vio(dfd, SIO_VFIO_DEVICE_GET_IRQ_INFO, ii);
}

/* SET_IRQS with count eventfds (DATA_EVENTFD) or, fds NULL, DATA_NONE. */
static long set_irqs(int dfd, uint32_t index, uint32_t action,
		     uint32_t start, uint32_t count, const int32_t *fds)
{
	uint64_t buf[8] = { 0 };
	struct sio_vfio_irq_set *a = (void *)buf;

	a->argsz = sizeof(*a) + (fds ? count * sizeof(int32_t) : 0);
	a->flags = action | (fds ? SIO_VFIO_IRQ_SET_DATA_EVENTFD :
				   SIO_VFIO_IRQ_SET_DATA_NONE);
	a->index = index;
	a->start = start;
	a->count = count;
	if (fds)
		memcpy(a->data, fds, count * sizeof(int32_t));
	return vio(dfd, SIO_VFIO_DEVICE_SET_IRQS, a);
}

static long set_bool(int dfd, uint32_t index, uint32_t action,
		     uint32_t start, uint32_t count, const uint8_t *bools)
{
	uint64_t buf[8] = { 0 };
	struct sio_vfio_irq_set *a = (void *)buf;

	a->argsz = sizeof(*a) + count;
	a->flags = action | SIO_VFIO_IRQ_SET_DATA_BOOL;
	a->index = index;
	a->start = start;
	a->count = count;
	memcpy(a->data, bools, count);
	return vio(dfd, SIO_VFIO_DEVICE_SET_IRQS, a);
}

#define TRIG SIO_VFIO_IRQ_SET_ACTION_TRIGGER
#define MSIX SIO_VFIO_PCI_MSIX_IRQ_INDEX
#define MSI SIO_VFIO_PCI_MSI_IRQ_INDEX
#define INTX SIO_VFIO_PCI_INTX_IRQ_INDEX

/* The model raises vector v (through its doorbell, as a device would). */
static void raise_vec(struct ifx *x, int dev, unsigned int v)
{
	bar_wr(x->dfd[dev], 0, T_REG_VECTOR, v);
	bar_wr(x->dfd[dev], 0, T_REG_DOORBELL, 1);
}

static void info(void **state)
{
	struct ifx *x = *state;
	struct sio_vfio_irq_info ii;

	assert_int_equal(irq_info(x->dfd[0], INTX, &ii), 0);
	assert_int_equal(ii.count, 1);
	assert_int_equal(ii.flags, SIO_VFIO_IRQ_INFO_EVENTFD |
				   SIO_VFIO_IRQ_INFO_MASKABLE |
				   SIO_VFIO_IRQ_INFO_AUTOMASKED);
	/* Function 1 has no interrupt pin. */
	assert_int_equal(irq_info(x->dfd[1], INTX, &ii), 0);
	assert_int_equal(ii.count, 0);
	assert_int_equal(irq_info(x->dfd[0], MSI, &ii), 0);
	assert_int_equal(ii.count, 4);
	assert_int_equal(ii.flags, SIO_VFIO_IRQ_INFO_EVENTFD |
				   SIO_VFIO_IRQ_INFO_NORESIZE);
	assert_int_equal(irq_info(x->dfd[0], MSIX, &ii), 0);
	assert_int_equal(ii.count, 4);
	assert_int_equal(ii.flags, SIO_VFIO_IRQ_INFO_EVENTFD);
	for (uint32_t i = SIO_VFIO_PCI_ERR_IRQ_INDEX;
	     i <= SIO_VFIO_PCI_REQ_IRQ_INDEX; i++) {
		assert_int_equal(irq_info(x->dfd[0], i, &ii), 0);
		assert_int_equal(ii.count, 1);
		assert_int_equal(ii.flags, SIO_VFIO_IRQ_INFO_EVENTFD |
					   SIO_VFIO_IRQ_INFO_NORESIZE);
	}
	assert_int_equal(irq_info(x->dfd[0], 5, &ii), -EINVAL);
	ii.argsz = 12;
	ii.index = 0;
	assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_GET_IRQ_INFO, &ii),
			 -EINVAL);
	assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_GET_IRQ_INFO, (void *)8),
			 -EFAULT);
}

/* The selftest's enable_trigger_disable, for MSI-X and MSI. */
static void enable_trigger_disable(void **state)
{
	struct ifx *x = *state;
	const uint32_t idx[] = { MSIX, MSI };
	unsigned int n;

	for (int k = 0; k < 2; k++) {
		assert_int_equal(set_irqs(x->dfd[0], idx[k], TRIG, 0, 4, x->efd),
				 0);
		assert_int_equal(sio_pci_irq_mode(x->f->pdev[0], &n),
				 idx[k] == MSIX ? SIO_PCI_IRQ_MSIX :
						  SIO_PCI_IRQ_MSI);
		assert_int_equal(n, 4);
		for (unsigned int i = 0; i < 4; i++) {
			assert_int_equal(efd_take(x->efd[i]), 0);
			assert_int_equal(set_irqs(x->dfd[0], idx[k], TRIG, i, 1,
						  NULL), 0);
			assert_int_equal(efd_take(x->efd[i]), 1);
		}
		assert_int_equal(set_irqs(x->dfd[0], idx[k], TRIG, 0, 0, NULL), 0);
		assert_int_equal(sio_pci_irq_mode(x->f->pdev[0], NULL),
				 SIO_PCI_IRQ_NONE);
		/* Disabled: nothing to fire. */
		assert_int_equal(set_irqs(x->dfd[0], idx[k], TRIG, 0, 1, NULL),
				 -EINVAL);
	}
}

/* The function's own interrupts reach the eventfds. */
static void msix_delivery(void **state)
{
	struct ifx *x = *state;
	uint8_t bools[4] = { 0, 1, 0, 1 };
	int32_t none = -1;
	int keep;

	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 0, 4, x->efd), 0);
	raise_vec(x, 0, 2);
	assert_int_equal(x->f->m[0].irq_rc, 0);
	assert_int_equal(efd_take(x->efd[2]), 1);
	assert_int_equal(efd_take(x->efd[0]), 0);
	assert_int_equal(efd_take(x->efd[1]), 0);

	/* BOOL triggers the vectors whose byte is set. */
	assert_int_equal(set_bool(x->dfd[0], MSIX, TRIG, 0, 4, bools), 0);
	assert_int_equal(efd_take(x->efd[0]), 0);
	assert_int_equal(efd_take(x->efd[1]), 1);
	assert_int_equal(efd_take(x->efd[3]), 1);

	/* The program may close its descriptor: the vector holds its own. */
	keep = dup(x->efd[1]);
	close(x->efd[1]);
	x->efd[1] = keep;
	raise_vec(x, 0, 1);
	assert_int_equal(efd_take(keep), 1);

	/* -1 tears one vector down. */
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 1, 1, &none), 0);
	raise_vec(x, 0, 1);
	assert_int_equal(efd_take(keep), 0);
	raise_vec(x, 0, 3);
	assert_int_equal(efd_take(x->efd[3]), 1);

	/* Masked in the table: held in the PBA until unmasked. */
	assert_int_equal(sio_pci_bar_write(x->f->pdev[0], 0,
					   T_MSIX_TABLE + 16 * 3 + 12, 4, 1), 0);
	raise_vec(x, 0, 3);
	assert_int_equal(x->f->m[0].irq_rc, 1);
	assert_int_equal(efd_take(x->efd[3]), 0);
	assert_int_equal(sio_pci_bar_write(x->f->pdev[0], 0,
					   T_MSIX_TABLE + 16 * 3 + 12, 4, 0), 0);
	assert_int_equal(efd_take(x->efd[3]), 1);

	/* While MSI-X is on, MSI and INTx are refused. */
	assert_int_equal(set_irqs(x->dfd[0], MSI, TRIG, 0, 1, x->efd), -EINVAL);
	assert_int_equal(set_irqs(x->dfd[0], INTX, TRIG, 0, 1, x->efd), -EINVAL);
}

/* MSI-X may grow while enabled (no NORESIZE); MSI may not. */
static void resize(void **state)
{
	struct ifx *x = *state;
	unsigned int n;

	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 0, 2, x->efd), 0);
	assert_int_equal(sio_pci_irq_mode(x->f->pdev[0], &n), SIO_PCI_IRQ_MSIX);
	assert_int_equal(n, 2);
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 3, 1, &x->efd[3]), 0);
	assert_int_equal(sio_pci_irq_mode(x->f->pdev[0], &n), SIO_PCI_IRQ_MSIX);
	assert_int_equal(n, 4);
	raise_vec(x, 0, 3);
	assert_int_equal(efd_take(x->efd[3]), 1);
	raise_vec(x, 0, 0);
	assert_int_equal(efd_take(x->efd[0]), 1);
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 0, 0, NULL), 0);

	assert_int_equal(set_irqs(x->dfd[0], MSI, TRIG, 0, 2, x->efd), 0);
	assert_int_equal(set_irqs(x->dfd[0], MSI, TRIG, 2, 1, &x->efd[2]),
			 -EINVAL);
	/* Tearing down past the enabled vectors is fine. */
	{
		int32_t none = -1;

		assert_int_equal(set_irqs(x->dfd[0], MSI, TRIG, 3, 1, &none), 0);
	}
	raise_vec(x, 0, 1);
	assert_int_equal(efd_take(x->efd[1]), 1);
	/* The function only has 2 MSI vectors enabled. */
	raise_vec(x, 0, 2);
	assert_int_equal(x->f->m[0].irq_rc, -EINVAL);
}

static void bad_eventfds(void **state)
{
	struct ifx *x = *state;
	int32_t fds[4];
	int pfd[2], dead;

	assert_int_equal(pipe(pfd), 0);
	dead = dup(0);
	close(dead);

	fds[0] = x->efd[0];
	fds[1] = dead;
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 0, 2, fds), -EBADF);
	/* A failed enable leaves the index disabled. */
	assert_int_equal(sio_pci_irq_mode(x->f->pdev[0], NULL), SIO_PCI_IRQ_NONE);
	fds[1] = pfd[0];
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 0, 2, fds), -EINVAL);
	/* An emulated file is backed by an eventfd but is none. */
	fds[1] = x->ifd;
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 0, 2, fds), -EINVAL);
	assert_int_equal(sio_pci_irq_mode(x->f->pdev[0], NULL), SIO_PCI_IRQ_NONE);

	/* On an enabled index a failure tears down the block it set. */
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 0, 1, x->efd), 0);
	fds[0] = x->efd[1];
	fds[1] = pfd[1];
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 1, 2, fds), -EINVAL);
	raise_vec(x, 0, 1);
	assert_int_equal(efd_take(x->efd[1]), 0);
	raise_vec(x, 0, 0);
	assert_int_equal(efd_take(x->efd[0]), 1);

	/* ERR and REQ: only -1 removes; other negatives are EINVAL. */
	fds[0] = -2;
	assert_int_equal(set_irqs(x->dfd[0], SIO_VFIO_PCI_ERR_IRQ_INDEX, TRIG,
				  0, 1, fds), -EINVAL);
	dead = dup(0);
	close(dead);
	fds[0] = dead;
	assert_int_equal(set_irqs(x->dfd[0], SIO_VFIO_PCI_REQ_IRQ_INDEX, TRIG,
				  0, 1, fds), -EBADF);
	close(pfd[0]);
	close(pfd[1]);
}

static void argument_rules(void **state)
{
	struct ifx *x = *state;
	struct sio_vfio_irq_set s = { .argsz = sizeof(s) };
	uint8_t one = 1;

	/* argsz below count's end. */
	s.argsz = 16;
	s.flags = TRIG | SIO_VFIO_IRQ_SET_DATA_NONE;
	s.index = MSIX;
	s.count = 1;
	assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_SET_IRQS, &s), -EINVAL);
	assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_SET_IRQS, (void *)8),
			 -EFAULT);
	/* Index past the five. */
	assert_int_equal(set_irqs(x->dfd[0], 5, TRIG, 0, 1, NULL), -EINVAL);
	/* Past the index's vectors; INTx of a function without a pin. */
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 4, 1, NULL), -EINVAL);
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 2, 3, x->efd), -EINVAL);
	assert_int_equal(set_irqs(x->dfd[1], INTX, TRIG, 0, 1, x->efd), -EINVAL);
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 1, UINT32_MAX - 1,
				  NULL), -EINVAL);
	/* Flags: unknown bits, two data types, no data type. */
	s.argsz = sizeof(s);
	s.flags = TRIG | SIO_VFIO_IRQ_SET_DATA_NONE | (1u << 6);
	assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_SET_IRQS, &s), -EINVAL);
	s.flags = TRIG | SIO_VFIO_IRQ_SET_DATA_NONE | SIO_VFIO_IRQ_SET_DATA_BOOL;
	assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_SET_IRQS, &s), -EINVAL);
	s.flags = TRIG;
	assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_SET_IRQS, &s), -EINVAL);
	/* No action, two actions, masking MSI-X: ENOTTY. */
	s.flags = SIO_VFIO_IRQ_SET_DATA_NONE;
	assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_SET_IRQS, &s), -ENOTTY);
	s.flags = SIO_VFIO_IRQ_SET_DATA_NONE | TRIG |
		  SIO_VFIO_IRQ_SET_ACTION_MASK;
	assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_SET_IRQS, &s), -ENOTTY);
	assert_int_equal(set_irqs(x->dfd[0], MSIX, SIO_VFIO_IRQ_SET_ACTION_MASK,
				  0, 1, NULL), -ENOTTY);
	assert_int_equal(set_irqs(x->dfd[0], SIO_VFIO_PCI_ERR_IRQ_INDEX,
				  SIO_VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, NULL),
			 -ENOTTY);
	/* Data shorter than count says. */
	s.flags = TRIG | SIO_VFIO_IRQ_SET_DATA_EVENTFD;
	s.count = 2;
	s.argsz = sizeof(s) + 4;
	assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_SET_IRQS, &s), -EINVAL);
	s.flags = TRIG | SIO_VFIO_IRQ_SET_DATA_BOOL;
	s.argsz = sizeof(s) + 1;
	assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_SET_IRQS, &s), -EINVAL);
	/* Data that cannot be read. */
	{
		uint8_t *p = mmap(NULL, 2 * T_PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct sio_vfio_irq_set *e = (void *)(p + T_PAGE - sizeof(*e));

		munmap(p + T_PAGE, T_PAGE);
		*e = (struct sio_vfio_irq_set){
			.argsz = sizeof(*e) + 8,
			.flags = TRIG | SIO_VFIO_IRQ_SET_DATA_EVENTFD,
			.index = MSIX, .count = 2,
		};
		assert_int_equal(vio(x->dfd[0], SIO_VFIO_DEVICE_SET_IRQS, e),
				 -EFAULT);
		munmap(p, T_PAGE);
	}
	/* The rules left nothing enabled. */
	assert_int_equal(sio_pci_irq_mode(x->f->pdev[0], NULL), SIO_PCI_IRQ_NONE);
	assert_int_equal(set_bool(x->dfd[0], MSIX, TRIG, 0, 1, &one), -EINVAL);
}

static void intx(void **state)
{
	struct ifx *x = *state;
	uint8_t yes = 1, no = 0;
	int32_t none = -1;
	uint32_t unmask = SIO_VFIO_IRQ_SET_ACTION_UNMASK;
	uint32_t mask = SIO_VFIO_IRQ_SET_ACTION_MASK;

	/* Masking before INTx is enabled is EINVAL. */
	assert_int_equal(set_irqs(x->dfd[0], INTX, mask, 0, 1, NULL), -EINVAL);
	assert_int_equal(set_irqs(x->dfd[0], INTX, TRIG, 0, 1, x->efd), 0);
	assert_int_equal(sio_pci_irq_mode(x->f->pdev[0], NULL), SIO_PCI_IRQ_INTX);
	raise_vec(x, 0, 0);
	assert_int_equal(efd_take(x->efd[0]), 1);
	/* Automasked: the next one waits for the unmask ... */
	raise_vec(x, 0, 0);
	assert_int_equal(efd_take(x->efd[0]), 0);
	assert_int_equal(set_irqs(x->dfd[0], INTX, unmask, 0, 1, NULL), 0);
	assert_int_equal(efd_take(x->efd[0]), 1);
	/* ... and a line the function let go of stays quiet at the unmask. */
	bar_wr(x->dfd[0], 0, T_REG_INTX_ACK, 1);
	assert_int_equal(set_bool(x->dfd[0], INTX, unmask, 0, 1, &yes), 0);
	assert_int_equal(efd_take(x->efd[0]), 0);
	/* A false BOOL masks nothing. */
	assert_int_equal(set_bool(x->dfd[0], INTX, mask, 0, 1, &no), 0);
	raise_vec(x, 0, 0);
	assert_int_equal(efd_take(x->efd[0]), 1);
	bar_wr(x->dfd[0], 0, T_REG_INTX_ACK, 1);
	assert_int_equal(set_bool(x->dfd[0], INTX, unmask, 0, 1, &no), 0);
	raise_vec(x, 0, 0);
	assert_int_equal(efd_take(x->efd[0]), 0);
	assert_int_equal(set_irqs(x->dfd[0], INTX, unmask, 0, 1, NULL), 0);
	assert_int_equal(efd_take(x->efd[0]), 1);
	/* Masked by the program: still asserted at the unmask, it fires. */
	bar_wr(x->dfd[0], 0, T_REG_INTX_ACK, 1);
	assert_int_equal(set_irqs(x->dfd[0], INTX, unmask, 0, 1, NULL), 0);
	assert_int_equal(set_bool(x->dfd[0], INTX, mask, 0, 1, &yes), 0);
	raise_vec(x, 0, 0);
	assert_int_equal(efd_take(x->efd[0]), 0);
	assert_int_equal(set_irqs(x->dfd[0], INTX, unmask, 0, 1, NULL), 0);
	assert_int_equal(efd_take(x->efd[0]), 1);
	/* Masking by eventfd is ENOTTY, as in the kernel; so is an unmask
	 * eventfd here; removing none is fine. */
	assert_int_equal(set_irqs(x->dfd[0], INTX, mask, 0, 1, x->efd), -ENOTTY);
	assert_int_equal(set_irqs(x->dfd[0], INTX, unmask, 0, 1, x->efd),
			 -ENOTTY);
	assert_int_equal(set_irqs(x->dfd[0], INTX, unmask, 0, 1, &none), 0);
	/* Loopback fires the eventfd; a new eventfd replaces the old. */
	assert_int_equal(set_irqs(x->dfd[0], INTX, TRIG, 0, 1, NULL), 0);
	assert_int_equal(efd_take(x->efd[0]), 1);
	assert_int_equal(set_irqs(x->dfd[0], INTX, TRIG, 0, 1, &x->efd[1]), 0);
	assert_int_equal(set_irqs(x->dfd[0], INTX, TRIG, 0, 1, NULL), 0);
	assert_int_equal(efd_take(x->efd[1]), 1);
	assert_int_equal(efd_take(x->efd[0]), 0);
	/* MSI-X while INTx is on: EINVAL; disable; then MSI-X works. */
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 0, 1, x->efd), -EINVAL);
	assert_int_equal(set_irqs(x->dfd[0], INTX, TRIG, 0, 0, NULL), 0);
	assert_int_equal(sio_pci_irq_mode(x->f->pdev[0], NULL), SIO_PCI_IRQ_NONE);
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 0, 1, x->efd), 0);
}

static void err_req(void **state)
{
	struct ifx *x = *state;
	const uint32_t idx[] = { SIO_VFIO_PCI_ERR_IRQ_INDEX,
				 SIO_VFIO_PCI_REQ_IRQ_INDEX };
	uint8_t yes = 1;
	int32_t none = -1;

	for (int k = 0; k < 2; k++) {
		/* DATA_NONE on nothing set is EINVAL. */
		assert_int_equal(set_irqs(x->dfd[0], idx[k], TRIG, 0, 1, NULL),
				 -EINVAL);
		assert_int_equal(set_irqs(x->dfd[0], idx[k], TRIG, 0, 1,
					  &x->efd[k]), 0);
		assert_int_equal(set_irqs(x->dfd[0], idx[k], TRIG, 0, 1, NULL),
				 0);
		assert_int_equal(efd_take(x->efd[k]), 1);
		assert_int_equal(set_bool(x->dfd[0], idx[k], TRIG, 0, 1, &yes),
				 0);
		assert_int_equal(efd_take(x->efd[k]), 1);
		/* count 0 and BOOL or EVENTFD: EINVAL; DATA_NONE removes. */
		assert_int_equal(set_bool(x->dfd[0], idx[k], TRIG, 0, 0, &yes),
				 -EINVAL);
		assert_int_equal(set_irqs(x->dfd[0], idx[k], TRIG, 0, 0, NULL),
				 0);
		assert_int_equal(set_irqs(x->dfd[0], idx[k], TRIG, 0, 0, NULL),
				 -EINVAL);
		assert_int_equal(set_irqs(x->dfd[0], idx[k], TRIG, 0, 1, &none),
				 0);
	}
	/* REQ: the host asks for the device back when it goes away. */
	assert_int_equal(set_irqs(x->dfd[0], SIO_VFIO_PCI_REQ_IRQ_INDEX, TRIG,
				  0, 1, &x->efd[2]), 0);
	sio_vfio_destroy(x->f->vfio);
	x->f->vfio = NULL;
	assert_int_equal(efd_take(x->efd[2]), 1);
}

/* A reset keeps what VFIO enabled; the close of the fd ends it. */
static void reset_and_close(void **state)
{
	struct ifx *x = *state;
	unsigned int n;

	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 0, 2, x->efd), 0);
	assert_int_equal(vio_n(x->dfd[0], SIO_VFIO_DEVICE_RESET, 0), 0);
	assert_int_equal(sio_pci_irq_mode(x->f->pdev[0], &n), SIO_PCI_IRQ_MSIX);
	assert_int_equal(n, 2);
	raise_vec(x, 0, 1);
	assert_int_equal(efd_take(x->efd[1]), 1);
	/* Re-arming with the same eventfds (the selftest driver's re-enable
	 * after a reset) works. */
	assert_int_equal(set_irqs(x->dfd[0], MSIX, TRIG, 0, 2, x->efd), 0);
	raise_vec(x, 0, 0);
	assert_int_equal(efd_take(x->efd[0]), 1);

	vclose(x->dfd[0]);
	x->dfd[0] = -1;
	assert_int_equal(sio_pci_irq_mode(x->f->pdev[0], NULL), SIO_PCI_IRQ_NONE);
	sio_pci_model_irq(x->f->pdev[0], 0);
	assert_int_equal(efd_take(x->efd[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(info, ifx_setup, ifx_teardown),
		cmocka_unit_test_setup_teardown(enable_trigger_disable, ifx_setup,
						ifx_teardown),
		cmocka_unit_test_setup_teardown(msix_delivery, ifx_setup,
						ifx_teardown),
		cmocka_unit_test_setup_teardown(resize, ifx_setup, ifx_teardown),
		cmocka_unit_test_setup_teardown(bad_eventfds, ifx_setup,
						ifx_teardown),
		cmocka_unit_test_setup_teardown(argument_rules, ifx_setup,
						ifx_teardown),
		cmocka_unit_test_setup_teardown(intx, ifx_setup, ifx_teardown),
		cmocka_unit_test_setup_teardown(err_req, ifx_setup, ifx_teardown),
		cmocka_unit_test_setup_teardown(reset_and_close, ifx_setup,
						ifx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
