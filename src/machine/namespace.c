/*
 * Writing the host namespace as a tree (namespace.h).
 *
 * Every entry is written where the kernel has it, with the kernel's text
 * (the formats of drivers/pci/pci-sysfs.c, drivers/iommu/iommu.c and
 * iommu-sysfs.c, drivers/iommu/intel/iommu.c, drivers/vfio/) and the
 * kernel's modes.  Symlinks are relative, computed from where the link and
 * its target live, as sysfs makes them: readlink() gives what it gives on
 * a real host, and resolution stays inside the tree.  Device nodes and
 * generated files are empty placeholders (a program cannot make device
 * nodes without CAP_MKNOD): stat and readdir see them, and the shim sends
 * their opens to the machine.
 *
 * The writer keeps the first error and skips the rest, so the description
 * reads as a list of entries; the caller removes a half-written tree.
 */
#include "machine/namespace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file/fail_files.h"
#include "util/error.h"
#include "util/fail.h"

#define NS_STAMP "/.softiommu-machine"

/* A namespace path into a PATH_MAX buffer.  The namespace's own paths
 * are short; one that would not fit is cut, and then fails to match. */
static void pathf(char *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void pathf(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
}

struct nsw {
	const char *dir;
	int err;
};

static int ns_full(struct nsw *w, const char *path, char *buf)
{
	if ((size_t)snprintf(buf, PATH_MAX, "%s%s", w->dir, path) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static void ns_fail(struct nsw *w, int err, const char *path)
{
	if (!w->err)
		w->err = sio_err(err, "namespace: %s%s", w->dir, path);
}

/* mkdir -p of path (absolute, in the namespace). */
static void ns_dir(struct nsw *w, const char *path)
{
	char buf[PATH_MAX];
	int rc;

	if (w->err)
		return;
	rc = ns_full(w, path, buf);
	for (char *p = strchr(buf + strlen(w->dir) + 1, '/'); !rc && p;
	     p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			rc = -errno;
		*p = '/';
	}
	if (!rc && mkdir(buf, 0755) && errno != EEXIST)
		rc = -errno;
	if (rc)
		ns_fail(w, rc, path);
}

static void ns_parent(struct nsw *w, const char *path)
{
	char parent[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		ns_dir(w, parent);
	}
}

/* A regular file with mode and size bytes of text (size 0: empty), or of
 * length len when text is NULL (a placeholder of that size). */
static void ns_write(struct nsw *w, const char *path, mode_t mode,
		     const char *text, off_t len)
{
	char buf[PATH_MAX];
	int fd, rc = 0;

	if (w->err)
		return;
	ns_parent(w, path);
	if (w->err || (rc = ns_full(w, path, buf)))
		goto out;
	/* A file written twice (a group's attributes, for each of its
	 * functions) may be read-only by now: write a new one. */
	if (unlink(buf) && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (text) {
		size_t n = strlen(text);

		if (write(fd, text, n) != (ssize_t)n)
			rc = -EIO;
	} else if (len && ftruncate(fd, len)) {
		rc = -errno;
	}
	/* The kernel's mode, whatever the umask. */
	if (!rc && fchmod(fd, mode))
		rc = -errno;
	close(fd);
out:
	if (rc)
		ns_fail(w, rc, path);
}

static void ns_file(struct nsw *w, const char *path, mode_t mode,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void ns_file(struct nsw *w, const char *path, mode_t mode,
		    const char *fmt, ...)
{
	char text[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ns_write(w, path, mode, text, 0);
}

/* The relative path from the directory holding link to target, both
 * absolute and canonical: "../" for each component of the link's directory
 * below their common ancestor, then the rest of target. */
int sio_ns_relative(const char *link, const char *target, char *buf,
		    size_t size)
{
	const char *ldir_end = strrchr(link, '/');
	size_t common = 0, i = 0, up = 0, pos = 0;

	/* The longest common prefix that ends at a component boundary. */
	while (link + i < ldir_end && target[i] && link[i] == target[i]) {
		i++;
		if (link[i] == '/' && (target[i] == '/' || !target[i]))
			common = i;
	}
	if (link + i == ldir_end && (target[i] == '/' || !target[i]))
		common = i;
	/* As kernfs: the ancestor is a strict one of the target, so a link
	 * to a directory above it names that directory from its parent. */
	if (!target[common])
		while (common && target[--common] != '/')
			;
	for (const char *p = link + common; p < ldir_end; p++)
		if (*p == '/')
			up++;
	buf[0] = '\0';
	for (size_t k = 0; k < up; k++)
		pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0,
					"../");
	pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0, "%s",
				target[common] == '/' ? target + common + 1 :
							target + common);
	if (pos && buf[pos - 1] == '/')
		buf[--pos] = '\0';
	return pos < size ? 0 : -ENAMETOOLONG;
}

static void ns_link(struct nsw *w, const char *path, const char *target)
{
	char buf[PATH_MAX], rel[PATH_MAX];
	int rc;

	if (w->err)
		return;
	ns_parent(w, path);
	if (w->err)
		return;
	rc = ns_full(w, path, buf);
	if (!rc)
		rc = sio_ns_relative(path, target, rel, sizeof(rel));
	if (!rc && symlink(rel, buf) && errno != EEXIST)
		rc = -errno;
	if (rc)
		ns_fail(w, rc, path);
}

/* ------------------------------------------------------------------ */
/* Where things are                                                     */
/* ------------------------------------------------------------------ */

static const char *bdf_name(uint32_t bdf, char *buf)
{
	return sio_pci_bdf_format(bdf, buf, 16);
}

/* /sys/devices/pciSSSS:BB/SSSS:BB:DD.F: every function hangs off a host
 * bridge of its own segment and bus (no bridges are emulated). */
void sio_ns_fn_dir(const struct sio_ns_function *f, char *buf)
{
	char b[16];

	snprintf(buf, PATH_MAX, "/sys/devices/pci%04x:%02x/%s",
		 SIO_PCI_BDF_SEG(f->bdf), SIO_PCI_BDF_BUS(f->bdf),
		 bdf_name(f->bdf, b));
}

/* The minor of a group's /dev/vfio node: groups in order of first
 * appearance, as the kernel's ida hands them out. */
static unsigned int group_minor(const struct sio_ns_desc *d, size_t fn)
{
	unsigned int minor = 0;

	for (size_t i = 0; i < fn; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= d->fns[j].group == d->fns[i].group;
		if (!seen && d->fns[i].group != d->fns[fn].group)
			minor++;
		if (d->fns[i].group == d->fns[fn].group)
			return minor;
	}
	return minor;
}

/* ------------------------------------------------------------------ */
/* Formats                                                              */
/* ------------------------------------------------------------------ */

/* IORESOURCE_* flags of a BAR (include/linux/ioport.h), with the BAR's
 * own type bits in the low byte, as pci_resource_flags() shows them. */
#define IORESOURCE_IO		0x00000100
#define IORESOURCE_MEM		0x00000200
#define IORESOURCE_PREFETCH	0x00002000
#define IORESOURCE_SIZEALIGN	0x00040000
#define IORESOURCE_MEM_64	0x00100000

static uint64_t bar_resource_flags(const struct sio_ns_bar *b)
{
	if (b->flags & SIO_PCI_BAR_IO)
		return IORESOURCE_IO | IORESOURCE_SIZEALIGN | 0x1;
	return IORESOURCE_MEM | IORESOURCE_SIZEALIGN |
	       ((b->flags & SIO_PCI_BAR_MEM64) ? IORESOURCE_MEM_64 | 0x4 : 0) |
	       ((b->flags & SIO_PCI_BAR_PREFETCH) ? IORESOURCE_PREFETCH | 0x8 : 0);
}

/* The resource attribute: one line per resource up to the bridge windows
 * (6 BARs, the ROM, 6 SR-IOV BARs: PCI_BRIDGE_RESOURCES with
 * CONFIG_PCI_IOV). */
static void fmt_resource(const struct sio_ns_function *f, char *text,
			 size_t size)
{
	size_t pos = 0;

	for (int i = 0; i < 13; i++) {
		const struct sio_ns_bar *b = i < SIO_PCI_NUM_BARS ? &f->bars[i] : NULL;
		uint64_t start = 0, end = 0, flags = 0;

		if (b && b->size) {
			start = b->start;
			end = b->start + b->size - 1;
			flags = bar_resource_flags(b);
		}
		pos += (size_t)snprintf(text + pos, size - pos,
					"0x%016llx 0x%016llx 0x%016llx\n",
					(unsigned long long)start,
					(unsigned long long)end,
					(unsigned long long)flags);
	}
}

/* A CPU mask as %*pb prints it: hex, 32 bits a group, groups separated by
 * ',', the first group without leading zeros beyond the mask's width. */
static void fmt_cpumask(unsigned int ncpus, char *text, size_t size)
{
	unsigned int groups = (ncpus + 31) / 32;
	size_t pos = 0;

	for (unsigned int g = groups; g-- > 0;) {
		unsigned int bits = g == groups - 1 ? ncpus - g * 32 : 32;
		uint32_t v = bits >= 32 ? 0xffffffffu : (1u << bits) - 1;
		unsigned int digits = g == groups - 1 ? (bits + 3) / 4 : 8;

		pos += (size_t)snprintf(text + pos, size - pos, "%s%0*x",
					g == groups - 1 ? "" : ",", (int)digits, v);
	}
	snprintf(text + pos, size - pos, "\n");
}

static unsigned int host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n > 0 ? (unsigned int)n : 1;
}

static void modalias(const struct sio_ns_function *f, char *buf, size_t size)
{
	snprintf(buf, size, "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X",
		 f->vendor, f->device, f->subsystem_vendor, f->subsystem_device,
		 (f->class_code >> 16) & 0xff, (f->class_code >> 8) & 0xff,
		 f->class_code & 0xff);
}

/* ------------------------------------------------------------------ */
/* The entries                                                          */
/* ------------------------------------------------------------------ */

static void ns_power(struct nsw *w, const char *dev)
{
	char p[PATH_MAX];

	pathf(p, "%s/power/control", dev);
	ns_file(w, p, 0644, "on\n");
	pathf(p, "%s/power/runtime_status", dev);
	ns_file(w, p, 0444, "active\n");
}

/* A class device with a device number: dev, uevent, subsystem, power. */
static void ns_chardev_sysfs(struct nsw *w, const char *dir, const char *class,
			     unsigned int major, unsigned int minor,
			     const char *devname)
{
	char p[PATH_MAX], t[PATH_MAX];

	pathf(p, "%s/dev", dir);
	ns_file(w, p, 0444, "%u:%u\n", major, minor);
	pathf(p, "%s/uevent", dir);
	ns_file(w, p, 0644, "MAJOR=%u\nMINOR=%u\nDEVNAME=%s\n", major, minor,
		devname);
	pathf(p, "%s/subsystem", dir);
	pathf(t, "/sys/class/%s", class);
	ns_link(w, p, t);
	ns_power(w, dir);
	pathf(p, "/sys/dev/char/%u:%u", major, minor);
	ns_link(w, p, dir);
}

static void ns_function(struct nsw *w, const struct sio_ns_desc *d, size_t i)
{
	const struct sio_ns_function *f = &d->fns[i];
	char dev[PATH_MAX], p[PATH_MAX], t[PATH_MAX], b[16], text[1024];
	char alias[96];
	unsigned int cpus = host_cpus();

	sio_ns_fn_dir(f, dev);
	bdf_name(f->bdf, b);
	modalias(f, alias, sizeof(alias));

	/* The host bridge the function sits under. */
	pathf(p, "/sys/devices/pci%04x:%02x/uevent",
		 SIO_PCI_BDF_SEG(f->bdf), SIO_PCI_BDF_BUS(f->bdf));
	ns_file(w, p, 0644, "%s", "");

	/* drivers/pci/pci-sysfs.c */
#define ATTR(name, mode, ...)						\
	do {								\
		pathf(p, "%s/" name, dev);		\
		ns_file(w, p, mode, __VA_ARGS__);			\
	} while (0)
	ATTR("vendor", 0444, "0x%04x\n", f->vendor);
	ATTR("device", 0444, "0x%04x\n", f->device);
	ATTR("subsystem_vendor", 0444, "0x%04x\n", f->subsystem_vendor);
	ATTR("subsystem_device", 0444, "0x%04x\n", f->subsystem_device);
	ATTR("revision", 0444, "0x%02x\n", f->revision);
	ATTR("class", 0444, "0x%06x\n", f->class_code);
	ATTR("irq", 0444, "0\n");
	fmt_cpumask(cpus, text, sizeof(text));
	ATTR("local_cpus", 0444, "%s", text);
	ATTR("local_cpulist", 0444, cpus > 1 ? "0-%u\n" : "0\n", cpus - 1);
	ATTR("modalias", 0444, "%s\n", alias);
	ATTR("numa_node", 0644, "-1\n");
	ATTR("dma_mask_bits", 0444, "64\n");
	ATTR("consistent_dma_mask_bits", 0444, "64\n");
	ATTR("enable", 0644, "0\n");
	ATTR("broken_parity_status", 0644, "0\n");
	ATTR("msi_bus", 0644, "1\n");
	ATTR("d3cold_allowed", 0644, "1\n");
	ATTR("ari_enabled", 0444, "0\n");
	ATTR("power_state", 0444, "D0\n");
	ATTR("driver_override", 0644, "vfio-pci\n");
	fmt_resource(f, text, sizeof(text));
	ATTR("resource", 0444, "%s", text);
	ATTR("uevent", 0644,
	     "DRIVER=vfio-pci\nPCI_CLASS=%X\nPCI_ID=%04X:%04X\n"
	     "PCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\nMODALIAS=%s\n",
	     f->class_code, f->vendor, f->device, f->subsystem_vendor,
	     f->subsystem_device, b, alias);
	ATTR("reset", 0200, "%s", "");
	ATTR("remove", 0220, "%s", "");
	if (f->config_size > 256) {
		ATTR("current_link_speed", 0444, "8.0 GT/s PCIe\n");
		ATTR("current_link_width", 0444, "4\n");
		ATTR("max_link_speed", 0444, "8.0 GT/s PCIe\n");
		ATTR("max_link_width", 0444, "4\n");
	}
#undef ATTR
	/* The config attribute is read at open from the function. */
	pathf(p, "%s/config", dev);
	ns_write(w, p, 0644, NULL, f->config_size);
	ns_power(w, dev);

	pathf(p, "%s/subsystem", dev);
	ns_link(w, p, "/sys/bus/pci");
	pathf(p, "%s/driver", dev);
	ns_link(w, p, "/sys/bus/pci/drivers/vfio-pci");
	pathf(p, "%s/iommu_group", dev);
	pathf(t, "/sys/kernel/iommu_groups/%u", f->group);
	ns_link(w, p, t);
	pathf(p, "%s/iommu", dev);
	pathf(t, "/sys/devices/virtual/iommu/%s", d->iommu);
	ns_link(w, p, t);

	/* drivers/pci/bus.c and the driver core's links */
	pathf(p, "/sys/bus/pci/devices/%s", b);
	ns_link(w, p, dev);
	pathf(p, "/sys/bus/pci/drivers/vfio-pci/%s", b);
	ns_link(w, p, dev);

	/* drivers/iommu/iommu.c: the group */
	pathf(p, "/sys/kernel/iommu_groups/%u/devices/%s",
		 f->group, b);
	ns_link(w, p, dev);
	pathf(p, "/sys/kernel/iommu_groups/%u/type", f->group);
	ns_file(w, p, 0644, "%s\n", f->group_type ? f->group_type : "unknown");
	text[0] = '\0';
	for (size_t r = 0, pos = 0; r < f->nresv; r++)
		pos += (size_t)snprintf(text + pos, sizeof(text) - pos,
					"0x%016llx 0x%016llx %s\n",
					(unsigned long long)f->resv[r].start,
					(unsigned long long)f->resv[r].last,
					f->resv[r].type);
	pathf(p, "/sys/kernel/iommu_groups/%u/reserved_regions",
		 f->group);
	ns_file(w, p, 0444, "%s", text);

	/* drivers/iommu/iommu-sysfs.c: the IOMMU lists its devices */
	pathf(p, "/sys/devices/virtual/iommu/%s/devices/%s",
		 d->iommu, b);
	ns_link(w, p, dev);

	/* drivers/vfio/vfio_main.c: the vfio-dev class device, child of
	 * the function, and its node under /dev/vfio/devices */
	pathf(p, "%s/vfio-dev/vfio%u", dev, f->cdev);
	pathf(t, "vfio/devices/vfio%u", f->cdev);
	ns_chardev_sysfs(w, p, "vfio-dev", SIO_NS_VFIO_DEV_MAJOR, f->cdev, t);
	pathf(t, "%s/vfio-dev/vfio%u/device", dev, f->cdev);
	ns_link(w, t, dev);
	pathf(t, "/sys/class/vfio-dev/vfio%u", f->cdev);
	ns_link(w, t, p);
	pathf(p, "/dev/vfio/devices/vfio%u", f->cdev);
	ns_write(w, p, 0600, NULL, 0);

	/* drivers/vfio/group.c: the group's class device and node */
	pathf(p, "/sys/devices/virtual/vfio/%u", f->group);
	pathf(t, "vfio/%u", f->group);
	ns_chardev_sysfs(w, p, "vfio", SIO_NS_VFIO_GROUP_MAJOR,
			 group_minor(d, i), t);
	pathf(t, "/sys/class/vfio/%u", f->group);
	ns_link(w, t, p);
	pathf(p, "/dev/vfio/%u", f->group);
	ns_write(w, p, 0600, NULL, 0);

	/* drivers/iommu/intel/debugfs.c: the dump is made at open */
	snprintf(p, sizeof(p),
		 "/sys/kernel/debug/iommu/intel/%s/domain_translation_struct", b);
	ns_write(w, p, 0444, NULL, 0);
}

static void ns_iommu(struct nsw *w, const struct sio_ns_desc *d)
{
	char dir[PATH_MAX], p[PATH_MAX];

	pathf(dir, "/sys/devices/virtual/iommu/%s", d->iommu);
	ns_dir(w, dir);
	pathf(p, "%s/devices", dir);
	ns_dir(w, p);
	/* drivers/iommu/intel/iommu.c, the "intel-iommu" group */
	pathf(p, "%s/intel-iommu/version", dir);
	ns_file(w, p, 0444, "1:0\n");
	pathf(p, "%s/intel-iommu/address", dir);
	ns_file(w, p, 0444, "%llx\n", (unsigned long long)d->iommu_address);
	pathf(p, "%s/intel-iommu/cap", dir);
	ns_file(w, p, 0444, "%llx\n", (unsigned long long)d->iommu_cap);
	pathf(p, "%s/intel-iommu/ecap", dir);
	ns_file(w, p, 0444, "%llx\n", (unsigned long long)d->iommu_ecap);
	pathf(p, "%s/intel-iommu/domains_supported", dir);
	ns_file(w, p, 0444, "%u\n", 1u << 16);
	pathf(p, "%s/intel-iommu/domains_used", dir);
	ns_file(w, p, 0444, "%zu\n", d->nfns);
	pathf(p, "%s/uevent", dir);
	ns_file(w, p, 0644, "%s", "");
	pathf(p, "%s/subsystem", dir);
	ns_link(w, p, "/sys/class/iommu");
	ns_power(w, dir);
	pathf(p, "/sys/class/iommu/%s", d->iommu);
	ns_link(w, p, dir);
}

/* The stamp: the description as text, which attaching compares. */
static char *ns_stamp_text(const struct sio_ns_desc *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = sio_should_fail(SIO_FAIL_SLAB) ? NULL :
		  open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f, "softiommu machine 1\niommu %s %llx %llx %llx\n", d->iommu,
		(unsigned long long)d->iommu_address,
		(unsigned long long)d->iommu_cap,
		(unsigned long long)d->iommu_ecap);
	for (size_t i = 0; i < d->nfns; i++) {
		const struct sio_ns_function *fn = &d->fns[i];

		fprintf(f, "fn %08x %04x:%04x %04x:%04x %06x %02x %u group %u %s cdev %u",
			fn->bdf, fn->vendor, fn->device, fn->subsystem_vendor,
			fn->subsystem_device, fn->class_code, fn->revision,
			fn->config_size, fn->group,
			fn->group_type ? fn->group_type : "-", fn->cdev);
		for (int b = 0; b < SIO_PCI_NUM_BARS; b++)
			fprintf(f, " %llx/%llx/%x",
				(unsigned long long)fn->bars[b].start,
				(unsigned long long)fn->bars[b].size,
				fn->bars[b].flags);
		for (size_t r = 0; r < fn->nresv; r++)
			fprintf(f, " %llx-%llx:%s",
				(unsigned long long)fn->resv[r].start,
				(unsigned long long)fn->resv[r].last,
				fn->resv[r].type);
		fputc('\n', f);
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* lib/fault-inject.c: each fault's debugfs directory, its attributes
 * 0600; placeholders, the files are emulated (file/fail_files.c). */
static void ns_fail_attrs(struct nsw *w)
{
	char p[PATH_MAX];

	for (unsigned int k = 0; k < SIO_FAIL_NR_KINDS; k++)
		for (unsigned int a = 0; a < SIO_FAIL_NR_ATTRS; a++) {
			const char *name = sio_fail_attr_name(k, a);

			if (!name)
				continue;
			snprintf(p, sizeof(p), "/sys/kernel/debug/%s/%s",
				 sio_fail_dir_name(k), name);
			ns_write(w, p, 0600, NULL, 0);
		}
}

int sio_ns_build(const char *dir, const struct sio_ns_desc *desc)
{
	struct nsw w = { .dir = dir };
	char *stamp;

	if (!dir || dir[0] != '/' || !desc || !desc->iommu)
		return sio_err(-EINVAL, "namespace: bad arguments");
	ns_iommu(&w, desc);
	for (size_t i = 0; i < desc->nfns; i++)
		ns_function(&w, desc, i);
	/* Nodes that exist without any function: the VFIO container and
	 * iommufd, and the directories programs look for. */
	ns_write(&w, "/dev/vfio/vfio", 0666, NULL, 0);
	ns_write(&w, "/dev/iommu", 0600, NULL, 0);
	ns_dir(&w, "/dev/vfio/devices");
	ns_dir(&w, "/sys/kernel/debug/iommu/intel");
	ns_fail_attrs(&w);
	ns_dir(&w, "/sys/kernel/iommu_groups");
	ns_dir(&w, "/sys/bus/pci/devices");
	ns_file(&w, "/sys/bus/pci/drivers/vfio-pci/bind", 0200, "%s", "");
	ns_file(&w, "/sys/bus/pci/drivers/vfio-pci/unbind", 0200, "%s", "");
	ns_file(&w, "/sys/bus/pci/drivers/vfio-pci/new_id", 0200, "%s", "");
	ns_file(&w, "/sys/bus/pci/drivers/vfio-pci/remove_id", 0200, "%s", "");
	ns_file(&w, "/sys/bus/pci/drivers/vfio-pci/uevent", 0200, "%s", "");
	if (w.err)
		return w.err;
	stamp = ns_stamp_text(desc);
	if (!stamp)
		return sio_err(-ENOMEM, "namespace: stamp");
	ns_write(&w, NS_STAMP, 0444, stamp, 0);
	free(stamp);
	return w.err;
}

int sio_ns_stamp_matches(const char *dir, const struct sio_ns_desc *desc)
{
	char path[PATH_MAX], *want, *have = NULL;
	size_t cap = 0, len = 0;
	ssize_t n;
	int fd, rc;

	if ((size_t)snprintf(path, sizeof(path), "%s" NS_STAMP, dir) >= sizeof(path))
		return sio_err(-ENAMETOOLONG, "namespace: %s: name too long", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sio_err(-errno, "namespace: %s", path);
	for (;;) {
		if (len + 1024 > cap) {
			char *p = sio_realloc(have, cap += 4096);

			if (!p) {
				rc = sio_err(-ENOMEM, "namespace: stamp");
				goto out;
			}
			have = p;
		}
		n = read(fd, have + len, cap - len - 1);
		if (n < 0) {
			rc = sio_err(-errno, "namespace: %s", path);
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	have[len] = '\0';
	want = ns_stamp_text(desc);
	if (!want) {
		rc = sio_err(-ENOMEM, "namespace: stamp");
		goto out;
	}
	rc = !strcmp(want, have);
	free(want);
out:
	free(have);
	close(fd);
	return rc;
}
