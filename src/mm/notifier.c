/*
 * MMU notifiers: how secondary TLBs (IOTLBs and device caches of devices
 * bound to the mm) follow its page table.
 *
 * The list is protected by the mm lock, and callbacks run under it, the
 * way a change of the page table does: so a notifier registered under the
 * lock hears about every change made after it, unregistering waits for a
 * running callback, and invalidate() always comes after the entries
 * changed and before the pages they pointed to are freed.
 */
#include "mm/mm_private.h"

SIO_API int sio_mm_notifier_register(struct sio_mm *mm,
				     struct sio_mm_notifier *mn)
{
	int rc = 0;

	if (!mm || !mn || !mn->ops)
		return sio_err(-EINVAL, "mm notifier: missing argument");
	pthread_mutex_lock(&mm->lock);
	if (mm->exited) {
		rc = sio_err(-ESRCH, "mm notifier: the mm has exited");
	} else if (mn->mm) {
		rc = sio_err(-EBUSY, "mm notifier: registered already");
	} else {
		mn->mm = mm;
		mn->next = mm->notifiers;
		mm->notifiers = mn;
	}
	pthread_mutex_unlock(&mm->lock);
	return rc;
}

SIO_API void sio_mm_notifier_unregister(struct sio_mm_notifier *mn)
{
	struct sio_mm_notifier **pos;
	struct sio_mm *mm;

	if (!mn || !mn->mm)
		return;
	mm = mn->mm;
	pthread_mutex_lock(&mm->lock);
	for (pos = &mm->notifiers; *pos; pos = &(*pos)->next) {
		if (*pos == mn) {
			*pos = mn->next;
			break;
		}
	}
	mn->mm = NULL;
	mn->next = NULL;
	pthread_mutex_unlock(&mm->lock);
}

void mm_invalidate(struct sio_mm *mm, uint64_t start, uint64_t end)
{
	mm->stats.invalidations++;
	for (struct sio_mm_notifier *mn = mm->notifiers; mn; mn = mn->next)
		if (mn->ops->invalidate)
			mn->ops->invalidate(mn, start, end);
}

void mm_notify_release(struct sio_mm *mm)
{
	for (struct sio_mm_notifier *mn = mm->notifiers; mn; mn = mn->next)
		if (mn->ops->release)
			mn->ops->release(mn);
}
