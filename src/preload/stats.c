/*
 * The IOMMU's counts at exit: when $SOFTIOMMU_STATS_FILE names a file, a
 * process whose shim made the emulated machine writes one line there as
 * it exits normally (exit(), return from main), replacing what was there:
 *
 *   maps=N unmaps=N translations=N faults=N
 *
 * map and unmap calls on the machine IOMMU's domains, and the translations
 * and faults of its devices' DMA (softiommu/machine.h).  It is how a
 * script that runs a VMM under `softiommu run` learns what the IOMMU saw
 * (scripts/qemu-passthrough.sh).  The write uses raw system calls: at
 * exit the shim's own interposers may be half torn down.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "preload/vfs.h"
#include "softiommu/machine.h"
#include "util/sys.h"

__attribute__((destructor)) static void write_stats(void)
{
	const char *path = getenv("SOFTIOMMU_STATS_FILE");
	struct sio_machine *m = sio_vfs_machine_created();
	struct sio_machine_stats st;
	char line[160];
	int fd, n;

	if (!path || !*path || !m)
		return;
	sio_machine_stats(m, &st);
	n = snprintf(line, sizeof(line),
		     "maps=%llu unmaps=%llu translations=%llu faults=%llu\n",
		     (unsigned long long)st.maps, (unsigned long long)st.unmaps,
		     (unsigned long long)st.translations,
		     (unsigned long long)st.faults);
	fd = (int)syscall(SYS_openat, AT_FDCWD, path,
			  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (syscall(SYS_write, fd, line, (size_t)n) != n)
		syscall(SYS_write, 2, "softiommu: could not write the stats file\n",
			42);
	sio_sys_close(fd);
}
