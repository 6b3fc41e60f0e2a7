/*
 * The in-process owner's copies and per-call probes (umem/self_copy.c,
 * umem/self_limits.c), with the library linked directly:
 *  - copies go by system call until the fault-safe copy is armed (the
 *    shim does it; installing the trap is not enough), then by the
 *    fault-safe copy; both give -EFAULT for unmapped, PROT_NONE and
 *    (writes) read-only memory, and the fault-injection point still fails
 *    them;
 *  - without the shim watching, the accounting mode sees a capability
 *    change at once; once watched, it takes the cache until told the
 *    probes changed (what the shim's interposers do); a charge always
 *    reads RLIMIT_MEMLOCK, in USER and in MM mode;
 *  - a fork child has its own pid in the cache.
 */
#include <linux/capability.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "softiommu/mmio.h"
#include "softiommu/umem.h"
#include "umem/self.h"
#include "util/fail.h"
#include "util/safecopy.h"

#define PG 4096UL

static uint64_t ua(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void check_copies(struct sio_umem_owner *o)
{
	char *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char buf[64];

	assert_ptr_not_equal(p, MAP_FAILED);
	memset(p, 0x11, 3 * PG);
	assert_int_equal(sio_umem_read(o, buf, ua(p), sizeof(buf)), 0);
	assert_int_equal(buf[63], 0x11);
	memset(buf, 0x22, sizeof(buf));
	assert_int_equal(sio_umem_write(o, ua(p + PG - 8), buf, 16), 0);
	assert_int_equal(p[PG + 7], 0x22);

	/* Second page PROT_NONE, third unmapped, first read-only. */
	assert_int_equal(mprotect(p + PG, PG, PROT_NONE), 0);
	assert_int_equal(munmap(p + 2 * PG, PG), 0);
	assert_int_equal(sio_umem_read(o, buf, ua(p + PG - 8), 16), -EFAULT);
	assert_int_equal(sio_umem_read(o, buf, ua(p + PG), 1), -EFAULT);
	assert_int_equal(sio_umem_read(o, buf, ua(p + 2 * PG), 8), -EFAULT);
	assert_int_equal(sio_umem_read(o, buf, 0, 8), -EFAULT);
	assert_int_equal(sio_umem_read(o, buf, 0xffff800000000000ull, 8),
			 -EFAULT);
	assert_int_equal(mprotect(p, PG, PROT_READ), 0);
	assert_int_equal(sio_umem_write(o, ua(p), buf, 8), -EFAULT);
	assert_int_equal(sio_umem_read(o, buf, ua(p), 8), 0);

	/* The injected failure comes before either copy. */
	sio_fail_kind_enable(SIO_FAIL_USERCOPY, true);
	sio_fail_nth_set(1);
	assert_int_equal(sio_umem_read(o, buf, ua(p), 8), -EFAULT);
	sio_fail_nth_set(0);
	assert_int_equal(sio_umem_read(o, buf, ua(p), 8), 0);
	sio_fail_kind_enable(SIO_FAIL_USERCOPY, false);
	munmap(p, 2 * PG);
}

static int faults_seen;

static void count_fault(int sig)
{
	(void)sig;
	faults_seen++;
}

/* Both ways give the same answers; the fault-safe one never lets a fault
 * reach the program's handler. */
static void test_copies(void **state)
{
	struct sio_umem_owner *o;
	struct sigaction sa = { .sa_handler = count_fault };

	(void)state;
	assert_int_equal(sio_umem_owner_self(&o), 0);
	if (!sio_safecopy_armed())
		check_copies(o);	/* by process_vm_readv/writev */
	assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);
	/* Installed is not armed: a direct sigaction could displace it. */
	assert_int_equal(sio_trap_install(), 0);
	assert_false(sio_safecopy_armed());
	check_copies(o);
	/* Armed, as the shim does. */
	sio_safecopy_arm();
	assert_true(sio_safecopy_armed());
	check_copies(o);
	assert_int_equal(faults_seen, 0);
	sio_umem_owner_put(o);
}

/* Every small length and alignment copies exactly its bytes, and a copy
 * that runs into a PROT_NONE page at any length faults. */
static void test_safe_memcpy_sizes(void **state)
{
	unsigned char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char src[300], dst[300];

	(void)state;
	assert_int_equal(sio_trap_install(), 0);
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 7 + 1);
	for (size_t len = 0; len <= 260; len++)
		for (size_t off = 0; off < 3; off++) {
			memset(dst, 0xee, sizeof(dst));
			assert_int_equal(sio_safe_memcpy(dst + off, src + 1, len), 0);
			assert_memory_equal(dst + off, src + 1, len);
			assert_int_equal(dst[off + len], 0xee);
			if (off)
				assert_int_equal(dst[off - 1], 0xee);
		}
	assert_int_equal(mprotect(p + PG, PG, PROT_NONE), 0);
	for (size_t len = 1; len <= 260; len++)
		assert_int_equal(sio_safe_memcpy(dst, p + PG - len + 1, len),
				 -EFAULT);
	munmap(p, 2 * PG);
}

static bool cap_ipc_lock(bool on)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return false;
	if (on)
		d[0].effective |= 1u << CAP_IPC_LOCK;
	else
		d[0].effective &= ~(1u << CAP_IPC_LOCK);
	return syscall(SYS_capset, &h, d) == 0;
}

static bool have_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	return syscall(SYS_capget, &h, d) == 0 &&
	       (d[0].effective & (1u << CAP_IPC_LOCK));
}

static void test_probes(void **state)
{
	struct sio_umem_owner *o;
	struct rlimit saved, rl;
	struct sio_umem_pin *pin;
	char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	bool had = have_cap_ipc_lock();

	(void)state;
	assert_int_equal(sio_umem_owner_self(&o), 0);
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &saved), 0);

	if (had) {
		/* Not watched: read every time. */
		assert_int_equal(sio_umem_acct_effective(o, SIO_UMEM_ACCT_USER),
				 SIO_UMEM_ACCT_NONE);
		assert_true(cap_ipc_lock(false));
		assert_int_equal(sio_umem_acct_effective(o, SIO_UMEM_ACCT_USER),
				 SIO_UMEM_ACCT_USER);
		assert_true(cap_ipc_lock(true));

		/* Watched: the cache, until the probes are said to change. */
		sio_umem_self_probes_watch();
		assert_int_equal(sio_umem_acct_effective(o, SIO_UMEM_ACCT_USER),
				 SIO_UMEM_ACCT_NONE);
		assert_true(cap_ipc_lock(false));
		assert_int_equal(sio_umem_acct_effective(o, SIO_UMEM_ACCT_USER),
				 SIO_UMEM_ACCT_NONE);
		sio_umem_self_probes_changed();
		assert_int_equal(sio_umem_acct_effective(o, SIO_UMEM_ACCT_USER),
				 SIO_UMEM_ACCT_USER);
	} else {
		sio_umem_self_probes_watch();
	}

	/* A charge reads the limit now, even unannounced, in both modes. */
	rl = saved;
	rl.rlim_cur = 4 * PG;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	for (int m = 0; m < 2; m++) {
		enum sio_umem_acct mode = m ? SIO_UMEM_ACCT_MM : SIO_UMEM_ACCT_USER;

		assert_int_equal(sio_umem_pin(o, ua(p), 8 * PG, 0, mode, &pin),
				 -ENOMEM);
		assert_int_equal(sio_umem_pin(o, ua(p), 4 * PG, 0, mode, &pin), 0);
		sio_umem_unpin(pin);
	}
	rl.rlim_cur = 8 * PG;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	assert_int_equal(sio_umem_pin(o, ua(p), 8 * PG, 0, SIO_UMEM_ACCT_MM,
				      &pin), 0);
	sio_umem_unpin(pin);

	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &saved), 0);
	if (had)
		assert_true(cap_ipc_lock(true));
	sio_umem_self_probes_changed();
	sio_umem_owner_put(o);
	munmap(p, 8 * PG);
}

static void test_fork_pid(void **state)
{
	pid_t parent = getpid(), child;
	int st;

	(void)state;
	assert_int_equal(sio_umem_self_pid(), parent);
	child = fork();
	if (child == 0)
		_exit(sio_umem_self_pid() == getpid() ? 0 : 1);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(sio_umem_self_pid(), parent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_safe_memcpy_sizes),
		cmocka_unit_test(test_probes),
		cmocka_unit_test(test_fork_pid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
