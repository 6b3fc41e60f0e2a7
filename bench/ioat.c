/*
 * bench/ioat: the I/OAT model's copy engine.  GB/s of the model copying
 * with 4 KiB and with 1 MiB descriptors (the VFIO selftest's way: one
 * descriptor whose next is itself, run DMACOUNT times), beside plain
 * memcpy() of the same sizes in the same run; and the latency from the
 * DMACOUNT write to CHANSTS reading DONE, through sio_pci_bar_write/read,
 * for a NULL descriptor and for 64-byte and 4 KiB copies.  The function
 * sits behind a soft IOMMU with a VT-d second-stage table, so every byte
 * is translated.  Medians of several runs.
 *
 * Usage: bench_ioat [runs]   (default 7)
 */
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "softiommu/softiommu.h"
#include "softiommu/ioat.h"
#include "softiommu/pci.h"

#define IOVA 0x40000000ull
#define DESC_OFF 0x0
#define SRC_OFF (1u << 20)
#define DST_OFF (2u << 20)
#define MEM_SIZE (3u << 20)
#define MB (1u << 20)

/* Register offsets and bits, as the drivers program them. */
#define R_CHANCTRL 0x80
#define R_CHANCMD 0x84
#define R_DMACOUNT 0x86
#define R_CHANSTS 0x88
#define R_CHAINADDR 0x90
#define CMD_SUSPEND 0x04
#define CMD_RESET 0x20
#define ST_DONE 1
#define D_NULL (1u << 5)

struct desc {
	uint32_t size, ctl;
	uint64_t src, dst, next;
	uint64_t rsv[4];
};

static struct sio_pci_dev *pdev;
static uint8_t *mem;

static uint64_t rd(uint64_t off, unsigned int size)
{
	uint64_t v = 0;

	sio_pci_bar_read(pdev, 0, off, size, &v);
	return v;
}

static void wr(uint64_t off, unsigned int size, uint64_t v)
{
	sio_pci_bar_write(pdev, 0, off, size, v);
}

static void set_desc(uint32_t size, uint32_t ctl)
{
	*(struct desc *)(mem + DESC_OFF) = (struct desc){
		.size = size, .ctl = ctl,
		.src = IOVA + SRC_OFF, .dst = IOVA + DST_OFF,
		.next = IOVA + DESC_OFF,
	};
}

/* Run the descriptor count times from a fresh chain: ns, or -1. */
static double run_chain(uint16_t count)
{
	double t0 = bench_now_ns(), t;

	wr(R_CHAINADDR, 8, IOVA + DESC_OFF);
	wr(R_DMACOUNT, 2, count);
	while ((rd(R_CHANSTS, 8) & 7) != ST_DONE)
		if ((rd(R_CHANSTS, 8) & 7) == 3)
			return -1;
	t = bench_now_ns() - t0;
	wr(R_CHANCMD, 1, CMD_SUSPEND);
	return t;
}

/* GB/s of the model copying bytes per descriptor, count per doorbell. */
static double model_gbps(uint32_t bytes, uint16_t count, int reps)
{
	double ns = 0, t;

	set_desc(bytes, 0);
	for (int i = 0; i < reps; i++) {
		t = run_chain(count);
		if (t < 0)
			return -1;
		ns += t;
	}
	return (double)bytes * count * reps / ns;
}

static double memcpy_gbps(uint32_t bytes, long iters)
{
	double t0 = bench_now_ns(), ns;

	for (long i = 0; i < iters; i++) {
		memcpy(mem + DST_OFF, mem + SRC_OFF, bytes);
		__asm__ volatile("" : : "r"(mem) : "memory");
	}
	ns = bench_now_ns() - t0;
	return (double)bytes * iters / ns;
}

/* ns from the DMACOUNT write to CHANSTS reading DONE, appending one
 * descriptor at a time to a DONE channel. */
static double latency_ns(uint32_t bytes, uint32_t ctl, long iters)
{
	uint16_t count = 1;
	double t0;

	set_desc(bytes, ctl);
	if (run_chain(1) < 0)
		return -1;
	wr(R_CHANCMD, 1, CMD_RESET);	/* HALTED, count back to zero */
	wr(R_CHAINADDR, 8, IOVA + DESC_OFF);
	t0 = bench_now_ns();
	for (long i = 0; i < iters; i++) {
		wr(R_DMACOUNT, 2, count++);
		while ((rd(R_CHANSTS, 8) & 7) != ST_DONE)
			;
	}
	return (bench_now_ns() - t0) / iters;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	struct sio_soft_config cfg = { .format = SIO_PT_VTD_SS };
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_domain *dom;
	struct sio_device *dev;
	double m4k[64], m1m[64], c4k[64], c1m[64], lnull[64], l64[64], l4k[64];

	if (runs < 1 || runs > 64)
		runs = 7;
	mem = aligned_alloc(4096, MEM_SIZE);
	if (!mem || sio_system_create(&sys) ||
	    sio_soft_iommu_create(sys, "vtd", &cfg, &iommu) ||
	    sio_ioat_create(iommu, SIO_PCI_BDF(0x100, 0, 4, 0), &pdev)) {
		fprintf(stderr, "bench_ioat: setup: %s\n", sio_last_error());
		return 1;
	}
	dev = sio_pci_dev_device(pdev);
	if (sio_domain_alloc_paging(dev, 0, NULL, &dom) ||
	    sio_attach_device(dom, dev) ||
	    sio_map(dom, IOVA, (uintptr_t)mem, MEM_SIZE,
		    SIO_PROT_READ | SIO_PROT_WRITE) ||
	    sio_pci_config_write(pdev, PCI_COMMAND, 2,
				 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) {
		fprintf(stderr, "bench_ioat: setup: %s\n", sio_last_error());
		return 1;
	}
	memset(mem, 0x5a, MEM_SIZE);
	wr(R_CHANCMD, 1, CMD_RESET);
	for (int r = 0; r < runs; r++) {
		m4k[r] = model_gbps(4096, 4096, 4);		/* 64 MiB */
		c4k[r] = memcpy_gbps(4096, 16384);
		m1m[r] = model_gbps(MB, 64, 1);			/* 64 MiB */
		c1m[r] = memcpy_gbps(MB, 64);
		lnull[r] = latency_ns(1, D_NULL, 100000);
		l64[r] = latency_ns(64, 0, 100000);
		l4k[r] = latency_ns(4096, 0, 20000);
		if (m4k[r] < 0 || m1m[r] < 0 || lnull[r] < 0) {
			fprintf(stderr, "bench_ioat: the channel halted\n");
			return 1;
		}
	}
	printf("bench_ioat: median of %d runs (soft IOMMU, VT-d second stage)\n",
	       runs);
	printf("  %-44s %8.2f GB/s\n", "model copy, 4 KiB descriptors",
	       bench_median(m4k, runs));
	printf("  %-44s %8.2f GB/s\n", "memcpy 4 KiB", bench_median(c4k, runs));
	printf("  %-44s %8.2f GB/s\n", "model copy, 1 MiB descriptors",
	       bench_median(m1m, runs));
	printf("  %-44s %8.2f GB/s\n", "memcpy 1 MiB", bench_median(c1m, runs));
	printf("  %-44s %8.1f ns\n", "DMACOUNT write -> DONE, NULL descriptor",
	       bench_median(lnull, runs));
	printf("  %-44s %8.1f ns\n", "DMACOUNT write -> DONE, 64 B copy",
	       bench_median(l64, runs));
	printf("  %-44s %8.1f ns\n", "DMACOUNT write -> DONE, 4 KiB copy",
	       bench_median(l4k, runs));

	sio_detach_device(dev);
	sio_domain_free(dom);
	sio_pci_dev_destroy(pdev);
	sio_system_destroy(sys);
	free(mem);
	return 0;
}
