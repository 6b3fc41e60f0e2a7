/*
 * softiommu demo: what softiommu does, told step by step.
 *
 * `softiommu demo` runs softiommu-vmm-demo, an ordinary program that uses
 * /dev/iommu as a VMM would, under `softiommu run`; `softiommu demo
 * --vfio` runs softiommu-vfio-demo, a userspace driver for the emulated
 * I/OAT DMA engine behind VFIO, the same way.  `softiommu demo
 * --core` is a walk through the library's own C API instead:
 * One mock IOMMU, two devices probed into their groups, a paging domain
 * attached to a device's RID and another to one of its PASIDs, guest memory
 * mapped and reached by device DMA, a replace, faults, detach and teardown.
 * Every step checks its result: the demo fails loudly if the library
 * misbehaves, so it doubles as a smoke test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "softiommu/softiommu.h"
#include <limits.h>
#include <unistd.h>

#include "cli.h"
#include "demo_step.h"

#define GUEST_IOVA 0x1000000ull		/* start of the mock's aperture */
#define PASID_IOVA 0x2000000ull
#define BUF_SIZE (64 * 1024)

/* The caller-owned attach handle, embedded in the caller's own state. */
struct demo_attachment {
	struct sio_attach_handle handle;
	const char *what;
};

static void show_group(struct sio_device *dev)
{
	struct sio_group *group;
	struct sio_domain *d;

	if (sio_device_group(dev, &group)) {
		printf("  %-6s  removed\n", sio_device_name(dev));
		return;
	}
	d = sio_group_domain(group);
	printf("  %-6s  group %u, %zu device(s), RID on the %s domain, %u PASIDs\n",
	       sio_device_name(dev), sio_group_id(group),
	       sio_group_device_count(group), sio_domain_type_name(sio_domain_type(d)),
	       sio_device_max_pasids(dev));
	sio_group_put(group);
}

static void show_dma_fault(const char *who, int rc, const struct sio_dma_fault *f)
{
	printf("  %s: DMA refused: %s (%s), iova %#llx\n", who,
	       sio_fault_reason_name(f->reason), strerror(-rc),
	       (unsigned long long)f->iova);
}

static int demo_lookup(struct sio_device *dev, sio_pasid_t pasid)
{
	struct sio_attach_handle *h;
	struct demo_attachment *a;
	int rc = sio_device_attach_handle_get(dev, pasid, 0, &h);

	if (rc)
		return rc;
	a = sio_container_of(h, struct demo_attachment, handle);
	printf("  fault path: (%s, PASID %u) -> handle of \"%s\" on a %s domain\n",
	       sio_device_name(dev), pasid, a->what,
	       sio_domain_type_name(sio_domain_type(h->domain)));
	return 0;
}

static int demo_core(void)
{
	struct sio_device_desc nic_desc = { .name = "nic0", .rid = 0x0100,
					    .flags = SIO_MOCK_DEV_PASID };
	struct sio_device_desc gpu_desc = { .name = "gpu0", .rid = 0x0200 };
	struct demo_attachment rid_att = { .what = "guest RAM" };
	struct demo_attachment rid_att2 = { .what = "guest RAM, remapped" };
	struct demo_attachment pasid_att = { .what = "queue 5" };
	struct sio_domain *dom_a, *dom_b, *dom_p;
	struct sio_device *nic, *gpu;
	struct sio_group *nic_group;
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_dma_fault f;
	char *guest, *queue, msg[32];
	int rc;

	guest = aligned_alloc(SIO_MOCK_PAGE_SIZE, BUF_SIZE);
	queue = aligned_alloc(SIO_MOCK_PAGE_SIZE, BUF_SIZE);
	if (!guest || !queue)
		return failed("allocating guest memory", -ENOMEM);
	memset(guest, 0, BUF_SIZE);
	memset(queue, 0, BUF_SIZE);

	printf("== an IOMMU and its devices\n");
	STEP(sio_system_create(&sys), "creating the system");
	STEP(sio_mock_iommu_create(sys, "mock0", &iommu), "registering the mock IOMMU");
	printf("  registered IOMMU %s (%u-bit PASIDs, 2 KiB pages)\n",
	       sio_iommu_name(iommu), sio_iommu_caps(iommu)->pasid_bits);
	STEP(sio_device_probe(iommu, &nic_desc, &nic), "probing nic0");
	STEP(sio_device_probe(iommu, &gpu_desc, &gpu), "probing gpu0");
	show_group(nic);
	show_group(gpu);

	printf("\n== a paging domain on nic0's RID\n");
	STEP(sio_device_group(nic, &nic_group), "getting nic0's group");
	STEP(sio_group_claim_dma_owner(nic_group, &nic_desc), "claiming DMA ownership");
	printf("  nic0's group is now user-owned (RID on the %s domain)\n",
	       sio_domain_type_name(sio_domain_type(sio_group_domain(nic_group))));
	STEP(sio_group_domain_alloc_paging(nic_group, 0, NULL, &dom_a),
	     "allocating a paging domain for the group");
	printf("  allocated a paging domain for group %u (from its first device), aperture [%#llx, %#llx]\n",
	       sio_group_id(nic_group),
	       (unsigned long long)sio_domain_geometry(dom_a)->aperture_start,
	       (unsigned long long)sio_domain_geometry(dom_a)->aperture_end);
	STEP(sio_attach_group(dom_a, nic_group, &rid_att.handle), "attaching the RID");
	show_group(nic);
	STEP(sio_map(dom_a, GUEST_IOVA, (uintptr_t)guest, BUF_SIZE,
		     SIO_PROT_READ | SIO_PROT_WRITE), "mapping guest memory");
	printf("  mapped %d KiB of guest memory at IOVA %#llx\n", BUF_SIZE / 1024,
	       GUEST_IOVA);

	printf("\n== device DMA through the mapping\n");
	STEP(sio_dma_write(nic, SIO_NO_PASID, GUEST_IOVA + 0x800, "hello, guest", 13, &f),
	     "DMA write");
	printf("  nic0 wrote to IOVA %#llx; guest memory at +0x800 reads \"%s\"\n",
	       GUEST_IOVA + 0x800, guest + 0x800);
	strcpy(guest + 0x1000, "hello, device");
	STEP(sio_dma_read(nic, SIO_NO_PASID, GUEST_IOVA + 0x1000, msg, 14, &f), "DMA read");
	printf("  nic0 read IOVA %#llx: \"%s\"\n", GUEST_IOVA + 0x1000, msg);
	rc = sio_dma_read(nic, SIO_NO_PASID, GUEST_IOVA + BUF_SIZE, msg, 4, &f);
	if (rc != -EFAULT)
		return failed("expecting a fault past the mapping", rc);
	show_dma_fault("nic0 past the mapping", rc, &f);
	rc = sio_dma_read(gpu, SIO_NO_PASID, GUEST_IOVA, msg, 4, &f);
	if (rc != -EPERM)
		return failed("expecting gpu0 to be blocked", rc);
	show_dma_fault("gpu0 (its own group, default domain)", rc, &f);

	printf("\n== a second domain on nic0's PASID 5\n");
	STEP(sio_domain_alloc_paging(nic, SIO_DOMAIN_ALLOC_PASID, NULL, &dom_p),
	     "allocating the PASID domain");
	STEP(sio_attach_device_pasid(dom_p, nic, 5, &pasid_att.handle),
	     "attaching PASID 5");
	STEP(sio_map(dom_p, PASID_IOVA, (uintptr_t)queue, BUF_SIZE, SIO_PROT_WRITE),
	     "mapping the queue");
	STEP(sio_dma_write(nic, 5, PASID_IOVA, "work item", 10, &f), "PASID DMA write");
	printf("  nic0 PASID 5 wrote \"%s\" into its queue (write-only mapping)\n", queue);
	rc = sio_dma_read(nic, 5, PASID_IOVA, msg, 4, &f);
	if (rc != -EACCES)
		return failed("expecting a permission fault", rc);
	show_dma_fault("nic0 PASID 5 reading a write-only page", rc, &f);
	STEP(demo_lookup(nic, SIO_NO_PASID), "finding the RID handle");
	STEP(demo_lookup(nic, 5), "finding the PASID handle");

	printf("\n== replace the RID domain\n");
	STEP(sio_group_domain_alloc_paging(nic_group, 0, NULL, &dom_b),
	     "allocating the new domain");
	STEP(sio_map(dom_b, GUEST_IOVA + 0x10000, (uintptr_t)guest, BUF_SIZE,
		     SIO_PROT_READ | SIO_PROT_WRITE), "mapping in the new domain");
	STEP(sio_replace_group(nic_group, dom_b, &rid_att2.handle), "replacing");
	printf("  RID moved to a new domain that maps the same memory %#x higher\n", 0x10000);
	rc = sio_dma_read(nic, SIO_NO_PASID, GUEST_IOVA, msg, 4, &f);
	if (rc != -EFAULT)
		return failed("expecting the old IOVA to fault", rc);
	show_dma_fault("nic0 at the old IOVA", rc, &f);
	STEP(sio_dma_read(nic, SIO_NO_PASID, GUEST_IOVA + 0x10000 + 0x1000, msg, 14, &f),
	     "DMA through the new domain");
	printf("  nic0 at the new IOVA reads \"%s\"\n", msg);
	STEP(sio_dma_write(nic, 5, PASID_IOVA + 16, "still there", 12, &f),
	     "PASID DMA after the RID replace");
	printf("  PASID 5 is untouched by the RID replace: wrote \"%s\"\n", queue + 16);
	STEP(demo_lookup(nic, SIO_NO_PASID), "finding the new RID handle");

	printf("\n== detach and tear down\n");
	sio_detach_device_pasid(dom_p, nic, 5);
	rc = sio_dma_write(nic, 5, PASID_IOVA, "x", 1, &f);
	if (rc != -ENOENT)
		return failed("expecting PASID 5 to be gone", rc);
	show_dma_fault("nic0 PASID 5 after detach", rc, &f);
	sio_detach_group(nic_group);
	rc = sio_dma_read(nic, SIO_NO_PASID, GUEST_IOVA + 0x10000, msg, 4, &f);
	if (rc != -EPERM)
		return failed("expecting the RID to be blocked", rc);
	show_dma_fault("nic0 RID after detach (user-owned: blocking)", rc, &f);
	printf("  unmapped %zd + %zd + %zd bytes\n",
	       sio_unmap(dom_a, GUEST_IOVA, BUF_SIZE),
	       sio_unmap(dom_b, GUEST_IOVA + 0x10000, BUF_SIZE),
	       sio_unmap(dom_p, PASID_IOVA, BUF_SIZE));
	STEP(sio_domain_free(dom_a), "freeing domain A");
	STEP(sio_domain_free(dom_b), "freeing domain B");
	STEP(sio_domain_free(dom_p), "freeing the PASID domain");
	sio_group_release_dma_owner(nic_group);
	sio_group_put(nic_group);
	sio_device_remove(gpu);
	sio_device_put(gpu);
	sio_device_remove(nic);
	sio_device_put(nic);
	STEP(sio_system_destroy(sys), "destroying the system");
	printf("  devices removed, domains freed, system destroyed\n");
	free(guest);
	free(queue);
	return 0;
}

/* A demo program (softiommu-vmm-demo, softiommu-vfio-demo) beside this
 * binary (a build tree), else where it was installed. */
static int find_demo(const char *name, const char *installed, char *buf,
		     size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		/* Checked lengths: a truncated path must not be tried. */
		if (slash && (size_t)(slash - exe) + strlen(name) + 2 <= size) {
			memcpy(buf, exe, (size_t)(slash - exe));
			sprintf(buf + (slash - exe), "/%s", name);
			if (access(buf, X_OK) == 0)
				return 0;
		}
	}
	if (installed) {
		snprintf(buf, size, "%s", installed);
		if (access(buf, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

#ifndef SIO_VMM_DEMO_INSTALL_PATH
#define SIO_VMM_DEMO_INSTALL_PATH NULL
#endif
#ifndef SIO_VFIO_DEMO_INSTALL_PATH
#define SIO_VFIO_DEMO_INSTALL_PATH NULL
#endif

/* Run a demo program under `softiommu run`, as a user would. */
static int run_demo(const char *name, const char *installed)
{
	char demo[PATH_MAX], self[PATH_MAX];
	ssize_t n;

	if (find_demo(name, installed, demo, sizeof(demo))) {
		fprintf(stderr, "softiommu demo: %s not found beside this binary "
			"or installed\n", name);
		return 1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		perror("softiommu demo: /proc/self/exe");
		return 1;
	}
	self[n] = '\0';
	printf("softiommu demo: running %s under softiommu run\n", demo);
	fflush(stdout);
	execl(self, "softiommu", "run", "--", demo, (char *)NULL);
	perror("softiommu demo: exec");
	return 1;
}

int cmd_demo(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--core"))
		return demo_core();
	if (argc > 1 && !strcmp(argv[1], "--migrate"))
		return demo_migrate();
	if (argc > 1 && !strcmp(argv[1], "--sva"))
		return demo_sva();
	if (argc > 1 && !strcmp(argv[1], "--vfio"))
		return run_demo("softiommu-vfio-demo", SIO_VFIO_DEMO_INSTALL_PATH);
	if (argc > 1) {
		fprintf(stderr, "usage: softiommu demo [--core|--migrate|--sva|--vfio]\n");
		return 2;
	}
	return run_demo("softiommu-vmm-demo", SIO_VMM_DEMO_INSTALL_PATH);
}
