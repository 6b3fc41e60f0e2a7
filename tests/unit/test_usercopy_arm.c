/*
 * sio_usercopy_arm(): a program that links the library arms the fault-safe
 * copies itself, as the shim does under `softiommu run`.  Before, copies
 * go by system call; after, they are plain copies whose faults the
 * library's handler turns into -EFAULT: a bad range never reaches the
 * program's handler (installed, as the promise says, through
 * sio_trap_sigaction()), while the program's own faults still do.
 */

#include <signal.h>
#include <sys/mman.h>

#include "helpers.h"
#include "softiommu/mmio.h"
#include "softiommu/umem.h"
#include "util/safecopy.h"

#define PG 4096UL

static volatile sig_atomic_t faults_seen;
static char *volatile fix_page;

/* The program's handler: counts, then lets its own access go on. */
static void on_fault(int sig)
{
	(void)sig;
	faults_seen++;
	mprotect(fix_page, PG, PROT_READ | PROT_WRITE);
}

static void test_arm(void **state)
{
	struct sigaction sa = { .sa_handler = on_fault };
	struct sio_umem_owner *o;
	char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char buf[32];

	(void)state;
	assert_ptr_not_equal(p, MAP_FAILED);
	assert_false(sio_safecopy_armed());
	assert_int_equal(sio_usercopy_arm(), 0);
	assert_true(sio_safecopy_armed());
	assert_int_equal(sio_usercopy_arm(), 0);	/* idempotent */
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &sa, NULL), 0);

	assert_int_equal(sio_umem_owner_self(&o), 0);
	memset(p, 0x5a, PG);
	assert_int_equal(sio_umem_read(o, buf, (uintptr_t)p + PG - 16, 16), 0);
	assert_int_equal(buf[15], 0x5a);
	assert_int_equal(mprotect(p + PG, PG, PROT_NONE), 0);
	assert_int_equal(sio_umem_read(o, buf, (uintptr_t)p + PG - 8, 16),
			 -EFAULT);
	assert_int_equal(sio_umem_write(o, (uintptr_t)p + PG, buf, 1), -EFAULT);
	assert_int_equal(faults_seen, 0);

	/* The program's own fault reaches its handler. */
	fix_page = p + PG;
	*(volatile char *)(p + PG) = 1;
	assert_int_equal(faults_seen, 1);
	assert_int_equal(p[PG], 1);

	sio_umem_owner_put(o);
	munmap(p, 2 * PG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
