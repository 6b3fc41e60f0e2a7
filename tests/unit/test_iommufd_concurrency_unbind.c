/*
 * Unbind against ioctls in flight (the kernel's REMOVE_WAIT).
 *
 * A driver's unbind takes the device object out of the table at once, so
 * no new ioctl finds it, then waits for the ioctls that hold it and only
 * then destroys it: the device is never published after its driver let it
 * go, and never freed under an ioctl.  Run under ThreadSanitizer as well.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "iommufd_helpers.h"
#include "iommufd/iommufd_private.h"
#include "softiommu/device.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long hw_info(struct fx *f, uint32_t dev_id)
{
	struct iommu_hw_info c = { .size = sizeof(c), .dev_id = dev_id };

	return io(f, IOMMU_GET_HW_INFO, &c);
}

/* A second binding of the mock device to the context: its driver is the
 * test, which unbinds it. */
static struct iommufd_device *bind_mock(struct fx *f, struct sio_device **dev,
					uint32_t *id)
{
	uint32_t ioas = ioas_alloc(f), stdev, hwpt, idev0;
	struct iommufd_device *idev;
	int err = 0;

	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, &idev0), 0);
	assert_int_equal(sio_iommufd_device_get(f->ictx, idev0, dev), 0);
	idev = iommufd_device_bind(f->ictx, *dev, id, &err);
	assert_non_null(idev);
	assert_int_equal(err, 0);
	assert_int_equal(hw_info(f, *id), 0);
	return idev;
}

struct unbinder {
	pthread_t thread;
	struct iommufd_device *idev;
	atomic_int done;
};

static void *unbind_thread(void *arg)
{
	struct unbinder *u = arg;

	iommufd_device_unbind(u->idev);
	atomic_store(&u->done, 1);
	return NULL;
}

/* An ioctl holding the device (its lookup reference) when unbind starts:
 * the device leaves the table at once, unbind waits for the ioctl, and the
 * object stays whole until the ioctl puts it. */
static void test_unbind_waits_for_holder(void **state)
{
	struct fx *f = *state;
	struct unbinder u = { 0 };
	struct iommufd_object *obj;
	struct sio_device *dev;
	uint32_t id;
	int err = 0, i;

	u.idev = bind_mock(f, &dev, &id);
	obj = iommufd_get_object(f->ictx, id, IOMMUFD_OBJ_DEVICE, &err);
	assert_non_null(obj);
	assert_int_equal(pthread_create(&u.thread, NULL, unbind_thread, &u), 0);

	/* Unpublished promptly, while the holder still holds it. */
	for (i = 0; i < 2000 && hw_info(f, id) == 0; i++)
		sleep_ms(1);
	assert_int_equal(hw_info(f, id), -ENOENT);
	assert_int_equal(destroy(f, id), -ENOENT);
	sleep_ms(20);
	assert_int_equal(atomic_load(&u.done), 0);
	/* Not destroyed under the holder. */
	assert_int_equal(obj->type, IOMMUFD_OBJ_DEVICE);
	assert_ptr_equal(u.idev->dev, dev);
	assert_int_equal(obj->id, id);

	iommufd_put_object(f->ictx, obj);
	assert_int_equal(pthread_join(u.thread, NULL), 0);
	assert_int_equal(atomic_load(&u.done), 1);
	assert_int_equal(hw_info(f, id), -ENOENT);
	assert_int_equal(destroy(f, id), -ENOENT);
	sio_device_put(dev);
}

struct prober {
	pthread_t thread;
	struct fx *f;
	uint32_t id;
	atomic_int ok;		/* successful GET_HW_INFO calls */
	long last;		/* the call that ended the loop */
};

static void *probe_thread(void *arg)
{
	struct prober *p = arg;
	long rc;

	while ((rc = hw_info(p->f, p->id)) == 0)
		atomic_fetch_add(&p->ok, 1);
	p->last = rc;
	return NULL;
}

/* Real ioctls racing the unbind: each either works on a whole device or
 * finds no device; after unbind returns none finds it. */
static void test_unbind_races_ioctls(void **state)
{
	struct fx *f = *state;

	for (int round = 0; round < 20; round++) {
		struct prober p = { .f = f };
		struct iommufd_device *idev;
		struct sio_device *dev;

		idev = bind_mock(f, &dev, &p.id);
		assert_int_equal(pthread_create(&p.thread, NULL, probe_thread,
						&p), 0);
		while (atomic_load(&p.ok) < 3)
			sched_yield();
		iommufd_device_unbind(idev);
		assert_int_equal(hw_info(f, p.id), -ENOENT);
		assert_int_equal(pthread_join(p.thread, NULL), 0);
		assert_int_equal(p.last, -ENOENT);
		sio_device_put(dev);
	}
}

/* DESTROY (no wait) of an object an ioctl holds is still -EBUSY. */
static void test_destroy_of_held_is_busy(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	struct iommufd_object *obj;
	int err = 0;

	obj = iommufd_get_object(f->ictx, ioas, IOMMUFD_OBJ_IOAS, &err);
	assert_non_null(obj);
	assert_int_equal(destroy(f, ioas), -EBUSY);
	iommufd_put_object(f->ictx, obj);
	assert_int_equal(destroy(f, ioas), 0);
	assert_int_equal(destroy(f, ioas), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unbind_waits_for_holder,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbind_races_ioctls,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_of_held_is_busy,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
