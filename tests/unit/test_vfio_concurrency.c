/*
 * VFIO under concurrency: the model raising interrupts from its own thread
 * while the program enables, re-arms and disables them, resets the device
 * and reads its registers; and cdevs bound, attached and closed while
 * another thread uses the other function.  Run under ThreadSanitizer in CI
 * (the "concurrency" label).
 */
#include <pthread.h>

#include "test_vfio_model.h"

#define ROUNDS 300

struct cc {
	struct vfx *f;
	int dfd, ifd;
	int efd[4];
	unsigned int raised;		/* delivered by the function */
	bool stop;
};

static void *model_thread(void *arg)
{
	struct cc *c = arg;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		for (unsigned int v = 0; v < 4; v++) {
			int rc;

			sio_pci_model_lock(c->f->pdev[0]);
			rc = sio_pci_model_irq(c->f->pdev[0], v);
			sio_pci_model_unlock(c->f->pdev[0]);
			if (rc == 0)
				__atomic_add_fetch(&c->raised, 1,
						   __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static long set_eventfds(int dfd, uint32_t count, const int *fds)
{
	uint64_t buf[6] = { 0 };
	struct sio_vfio_irq_set *s = (void *)buf;

	s->argsz = sizeof(*s) + count * sizeof(int32_t);
	s->flags = SIO_VFIO_IRQ_SET_ACTION_TRIGGER |
		   (count ? SIO_VFIO_IRQ_SET_DATA_EVENTFD :
			    SIO_VFIO_IRQ_SET_DATA_NONE);
	s->index = SIO_VFIO_PCI_MSIX_IRQ_INDEX;
	s->count = count;
	if (count)
		memcpy(s->data, fds, count * sizeof(int32_t));
	return vio(dfd, SIO_VFIO_DEVICE_SET_IRQS, s);
}

static void irqs_while_raising(void **state)
{
	struct vfx *f = *state;
	struct cc c = { .f = f };
	uint64_t total = 0;
	pthread_t t;

	c.ifd = sio_iommufd_open_fd(f->host, O_RDWR);
	c.dfd = sio_vfio_open_cdev(f->vfio, 0, O_RDWR);
	cdev_bind(c.dfd, c.ifd);
	for (int i = 0; i < 4; i++)
		c.efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_int_equal(pthread_create(&t, NULL, model_thread, &c), 0);
	for (int r = 0; r < ROUNDS; r++) {
		assert_int_equal(set_eventfds(c.dfd, 4, c.efd), 0);
		assert_int_equal(bar_rd(c.dfd, 0, T_REG_ID), T_ID);
		if (r % 16 == 0)
			assert_int_equal(vio_n(c.dfd, SIO_VFIO_DEVICE_RESET, 0),
					 0);
		assert_int_equal(cfg_rd(c.dfd, PCI_VENDOR_ID, 2), 0x1af4);
		assert_int_equal(set_eventfds(c.dfd, 0, NULL), 0);
		for (int i = 0; i < 4; i++)
			total += efd_take(c.efd[i]);
	}
	__atomic_store_n(&c.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	for (int i = 0; i < 4; i++) {
		total += efd_take(c.efd[i]);
		close(c.efd[i]);
	}
	/* Every signal came from a delivered interrupt; none is invented. */
	assert_true(total <= __atomic_load_n(&c.raised, __ATOMIC_RELAXED));
	assert_int_equal(sio_pci_irq_mode(f->pdev[0], NULL), SIO_PCI_IRQ_NONE);
	vclose(c.dfd);
	vclose(c.ifd);
}

struct churn {
	struct vfx *f;
	int ifd;
	unsigned int errors;
};

/* Bind, attach, close function 1 over and over; failures are counted
 * (cmocka asserts only on the main thread). */
static void *churn_thread(void *arg)
{
	struct churn *ch = arg;
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (vio(ch->ifd, IOMMU_IOAS_ALLOC, &a))
		ch->errors++;
	for (int r = 0; r < ROUNDS / 3; r++) {
		int cfd = sio_vfio_open_cdev(ch->f->vfio, 1, O_RDWR);
		struct sio_vfio_device_bind_iommufd b = {
			.argsz = sizeof(b), .iommufd = ch->ifd,
		};
		uint32_t pt = a.out_ioas_id;

		if (cfd < 0 || vio(cfd, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b) ||
		    attach_pt(cfd, &pt))
			ch->errors++;
		if (cfd >= 0 && sio_file_close(cfd))
			ch->errors++;
	}
	return NULL;
}

static void bind_churn(void **state)
{
	struct vfx *f = *state;
	struct churn ch = { .f = f };
	uint32_t ioas, pt;
	pthread_t t;
	int cfd;

	ch.ifd = sio_iommufd_open_fd(f->host, O_RDWR);
	cfd = sio_vfio_open_cdev(f->vfio, 0, O_RDWR);
	cdev_bind(cfd, ch.ifd);
	ioas = ioas_alloc(ch.ifd);
	ioas_map(ch.ifd, ioas, f->buf, 2 * T_PAGE, 0x100000);
	assert_int_equal(pthread_create(&t, NULL, churn_thread, &ch), 0);
	bus_master(cfd, true);
	for (int r = 0; r < ROUNDS / 3; r++) {
		struct sio_vfio_device_detach_iommufd_pt d = {
			.argsz = sizeof(d),
		};

		pt = ioas;
		assert_int_equal(attach_pt(cfd, &pt), 0);
		f->buf[0] = (uint8_t)r;
		doorbell(cfd, 0x100000, 0x100000 + T_PAGE, 0);
		assert_int_equal(f->m[0].dma_rc, 0);
		assert_int_equal(f->buf[T_PAGE], (uint8_t)r);
		assert_int_equal(vio(cfd, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d),
				 0);
	}
	pthread_join(t, NULL);
	assert_int_equal(ch.errors, 0);
	vclose(cfd);
	vclose(ch.ifd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(irqs_while_raising, vfx_setup,
						vfx_teardown),
		cmocka_unit_test_setup_teardown(bind_churn, vfx_setup,
						vfx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
