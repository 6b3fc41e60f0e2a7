/*
 * The emulated machine (softiommu/machine.h).
 *
 * Creation order is the kernel's boot order: the iommufd host (its system),
 * the IOMMU, the PCI functions probed onto it with their BARs placed (as
 * firmware assigns them), then VFIO taking every function (vfio-pci
 * binding), which numbers the groups and cdevs.  The namespace is then a
 * function of what was created, described once (struct sio_ns_desc) and
 * either written as a tree or checked against one another process of the
 * run wrote.
 *
 * A machine is built once and its description never changes, so resolve
 * and lookup read it without a lock.  The opens take the locks of the
 * layers they call.
 */
#include "softiommu/machine.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "softiommu/device.h"
#include "softiommu/domain.h"
#include "softiommu/group.h"
#include "softiommu/iommufd.h"
#include "softiommu/pci.h"
#include "softiommu/soft.h"
#include "softiommu/vfio.h"
#include "file/fail_files.h"
#include "file/file.h"
#include "machine/devlist.h"
#include "machine/models.h"
#include "machine/namespace.h"
#include "machine/served.h"
#include "util/error.h"
#include "util/rcu.h"
#include "util/fail.h"

/* Where firmware would put the BARs: a 64-bit window of the emulated
 * segment's host bridge far above the RAM of any host that runs us, a
 * 32-bit one below 4 GiB, and I/O ports. */
#define MMIO64_BASE 0x0000380000000000ull
#define MMIO32_BASE 0x00000000c0000000ull
#define IO_BASE 0x2000ull

/* What the intel driver reports for every device (IOAPIC/MSI range). */
#define INTEL_MSI_START 0xfee00000ull
#define INTEL_MSI_LAST 0xfeefffffull

struct machine_fn {
	struct sio_devspec spec;
	struct sio_pci_dev *pdev;
	struct sio_ns_resv resv[8];
	size_t nresv;
};

struct sio_machine {
	struct sio_iommufd_host *host;
	struct sio_iommu *iommu;
	char iommu_name[16];
	struct sio_vfio *vfio;
	char root[PATH_MAX];		/* the host's root, "" for / */

	size_t nfns;
	struct machine_fn *fns;
	struct sio_ns_function *nsfns;	/* fns as the namespace shows them */
	struct sio_ns_desc desc;

	struct sio_ns_layout *layout;	/* NULL until a namespace */
	char dir[PATH_MAX];
	pid_t dir_owner;		/* removes dir at destroy, if not 0 */
};

/* ------------------------------------------------------------------ */
/* The pieces                                                           */
/* ------------------------------------------------------------------ */

/* The IOMMU's sysfs name: the first dmar<N> the host does not have. */
static void pick_iommu_name(struct sio_machine *m)
{
	for (unsigned int n = 0;; n++) {
		char path[PATH_MAX + 64];
		struct stat st;

		snprintf(m->iommu_name, sizeof(m->iommu_name), "dmar%u", n);
		snprintf(path, sizeof(path), "%s/sys/class/iommu/%s", m->root,
			 m->iommu_name);
		if (lstat(path, &st))
			return;
	}
}

/* VT-d capability registers of a scalable-mode IOMMU with second-stage
 * tables only (the intel driver then makes every paging domain second
 * stage, so dirty tracking works on all of them), 48-bit 4-level tables,
 * 2 MiB and 1 GiB pages, 20-bit PASIDs (VT-d 11.4.2, 11.4.3). */
static void iommu_regs(uint64_t *cap, uint64_t *ecap)
{
	*cap = 6ull			/* ND: 64K domains */
	       | (1ull << (8 + 2))	/* SAGAW: 4-level */
	       | (47ull << 16)		/* MGAW: 48 bits */
	       | (3ull << 34)		/* SLLPS: 2 MiB, 1 GiB */
	       | (1ull << 39);		/* PSI */
	*ecap = (1ull << 0)		/* C */
		| (1ull << 1)		/* QI */
		| (1ull << 2)		/* DT */
		| (1ull << 6)		/* PT */
		| (1ull << 7)		/* SC */
		| (19ull << 35)		/* PSS: 20 PASID bits */
		| (1ull << 40)		/* PASID */
		| (1ull << 43)		/* SMTS */
		| (1ull << 45)		/* SLADS: dirty tracking */
		| (1ull << 46);		/* SLTS */
}

static const char *group_type_name(enum sio_domain_type t)
{
	switch (t) {
	case SIO_DOMAIN_BLOCKED:
		return "blocked";
	case SIO_DOMAIN_IDENTITY:
		return "identity";
	case SIO_DOMAIN_PAGING:
		return "DMA";
	default:
		return "unknown";
	}
}

/* Place the BARs as firmware does and write them to config space. */
static int place_bars(struct sio_pci_dev *pdev, struct sio_ns_bar *bars,
		      uint64_t *mmio64, uint64_t *mmio32, uint64_t *io)
{
	const struct sio_pci_dev_desc *d = sio_pci_dev_desc(pdev);
	int rc = 0;

	for (int i = 0; !rc && i < SIO_PCI_NUM_BARS; i++) {
		const struct sio_pci_bar_desc *b = &d->bars[i];
		uint64_t *cursor, size = b->size, addr;

		bars[i] = (struct sio_ns_bar){ 0 };
		if (!size)
			continue;
		cursor = (b->flags & SIO_PCI_BAR_IO) ? io :
			 (b->flags & SIO_PCI_BAR_MEM64) ? mmio64 : mmio32;
		if (size < 4096 && !(b->flags & SIO_PCI_BAR_IO))
			size = 4096;	/* the kernel aligns BARs to pages */
		addr = (*cursor + size - 1) & ~(size - 1);
		*cursor = addr + size;
		bars[i] = (struct sio_ns_bar){ addr, b->size, b->flags };
		rc = sio_pci_config_write(pdev, 0x10 + 4 * (uint32_t)i, 4,
					  (uint32_t)addr);
		if (!rc && (b->flags & SIO_PCI_BAR_MEM64) && i + 1 < SIO_PCI_NUM_BARS)
			rc = sio_pci_config_write(pdev, 0x10 + 4 * (uint32_t)(i + 1),
						  4, (uint32_t)(addr >> 32));
	}
	return rc;
}

static const char *resv_type_name(enum sio_resv_type t)
{
	switch (t) {
	case SIO_RESV_DIRECT:
		return "direct";
	case SIO_RESV_DIRECT_RELAXABLE:
		return "direct-relaxable";
	case SIO_RESV_RESERVED:
		return "reserved";
	case SIO_RESV_MSI:
	case SIO_RESV_SW_MSI:
		return "msi";
	}
	return "reserved";
}

static int collect_resv(const struct sio_resv_region *r, void *arg)
{
	struct machine_fn *fn = arg;

	if (fn->nresv < sizeof(fn->resv) / sizeof(fn->resv[0]))
		fn->resv[fn->nresv++] = (struct sio_ns_resv){
			r->start, r->last, resv_type_name(r->type)
		};
	return 0;
}

static int create_fn(struct sio_machine *m, size_t i, uint64_t *mmio64,
		     uint64_t *mmio32, uint64_t *io)
{
	struct machine_fn *fn = &m->fns[i];
	struct sio_ns_function *ns = &m->nsfns[i];
	const struct sio_pci_dev_desc *d;
	struct sio_device *dev;
	struct sio_group *group;
	int rc;

	rc = sio_machine_model_find(fn->spec.model)->create(m->iommu,
							     fn->spec.bdf,
							     &fn->pdev);
	if (rc)
		return rc;
	dev = sio_pci_dev_device(fn->pdev);
	rc = sio_device_add_resv_region(dev, &(struct sio_resv_region){
		.start = INTEL_MSI_START, .last = INTEL_MSI_LAST,
		.type = SIO_RESV_MSI,
	});
	if (!rc)
		rc = place_bars(fn->pdev, ns->bars, mmio64, mmio32, io);
	if (rc)
		return rc;
	sio_device_for_each_resv_region(dev, collect_resv, fn);
	d = sio_pci_dev_desc(fn->pdev);
	ns->bdf = fn->spec.bdf;
	ns->vendor = d->vendor_id;
	ns->device = d->device_id;
	ns->subsystem_vendor = d->subsystem_vendor_id;
	ns->subsystem_device = d->subsystem_id;
	ns->class_code = d->class_code;
	ns->revision = d->revision;
	ns->config_size = sio_pci_dev_config_size(fn->pdev);
	ns->resv = fn->resv;
	ns->nresv = fn->nresv;
	ns->group_type = "unknown";
	if (!sio_device_group(dev, &group)) {
		struct sio_domain *def = sio_group_default_domain(group);

		if (def)
			ns->group_type = group_type_name(sio_domain_type(def));
		sio_group_put(group);
	}
	return 0;
}

static int vfio_numbers(const struct sio_vfio_device_entry *info, void *arg)
{
	struct sio_machine *m = arg;

	for (size_t i = 0; i < m->nfns; i++) {
		if (m->fns[i].pdev != info->pdev)
			continue;
		m->nsfns[i].group = info->group;
		m->nsfns[i].cdev = info->cdev;
		return 0;
	}
	return sio_err(-EINVAL, "machine: VFIO has a device the machine lacks");
}

SIO_API int sio_machine_create(const struct sio_machine_config *cfg,
			       struct sio_machine **out)
{
	struct sio_soft_config soft = {
		.format = SIO_PT_VTD_SS,
		.levels = 4,
		.pasid_bits = 20,
		.default_domain_type = SIO_DOMAIN_PAGING,
		.dirty = true,
	};
	struct sio_devspec specs[SIO_DEVLIST_MAX];
	uint64_t mmio64 = MMIO64_BASE, mmio32 = MMIO32_BASE, io = IO_BASE;
	char sysfs[PATH_MAX + 8];
	struct sio_machine *m;
	size_t n;
	int rc;

	sio_err_clear();
	if (!out)
		return sio_err(-EINVAL, "machine: NULL out");
	m = sio_calloc(1, sizeof(*m));
	if (!m)
		return sio_err(-ENOMEM, "machine: out of memory");
	if (cfg && cfg->host_root && strcmp(cfg->host_root, "/"))
		snprintf(m->root, sizeof(m->root), "%s", cfg->host_root);
	snprintf(sysfs, sizeof(sysfs), "%s/sys", m->root);
	rc = sio_devlist_parse(cfg ? cfg->devices : NULL, sysfs, specs, &n);
	if (rc)
		goto err;
	m->nfns = n;
	m->fns = sio_calloc(n ? n : 1, sizeof(*m->fns));
	m->nsfns = sio_calloc(n ? n : 1, sizeof(*m->nsfns));
	if (!m->fns || !m->nsfns) {
		rc = sio_err(-ENOMEM, "machine: out of memory");
		goto err;
	}
	for (size_t i = 0; i < n; i++)
		m->fns[i].spec = specs[i];

	rc = sio_iommufd_host_create(&m->host);
	if (rc)
		goto err;
	pick_iommu_name(m);
	rc = sio_soft_iommu_create(sio_iommufd_host_system(m->host),
				   m->iommu_name, &soft, &m->iommu);
	for (size_t i = 0; !rc && i < n; i++)
		rc = create_fn(m, i, &mmio64, &mmio32, &io);
	if (!rc)
		rc = sio_vfio_create(m->host, &m->vfio);
	for (size_t i = 0; !rc && i < n; i++)
		rc = sio_vfio_add_device(m->vfio, m->fns[i].pdev);
	if (!rc)
		rc = sio_vfio_for_each_device(m->vfio, vfio_numbers, m);
	if (rc)
		goto err;

	m->desc.iommu = m->iommu_name;
	m->desc.iommu_address = 0xfed90000ull + 0x1000ull *
		strtoull(m->iommu_name + 4, NULL, 10);
	iommu_regs(&m->desc.iommu_cap, &m->desc.iommu_ecap);
	m->desc.fns = m->nsfns;
	m->desc.nfns = n;
	*out = m;
	return 0;
err:
	sio_machine_destroy(m);
	return rc;
}

SIO_API void sio_machine_destroy(struct sio_machine *m)
{
	if (!m)
		return;
	if (m->dir_owner && m->dir_owner == getpid())
		sio_machine_namespace_remove(m->dir);
	sio_ns_layout_destroy(m->layout);
	if (m->vfio)
		sio_vfio_destroy(m->vfio);
	for (size_t i = 0; m->fns && i < m->nfns; i++)
		if (m->fns[i].pdev)
			sio_pci_dev_destroy(m->fns[i].pdev);
	if (m->iommu)
		sio_iommu_unregister(m->iommu);
	sio_iommufd_host_destroy(m->host);
	free(m->fns);
	free(m->nsfns);
	free(m);
}

SIO_API struct sio_iommufd_host *sio_machine_host(struct sio_machine *m)
{
	return m->host;
}

SIO_API struct sio_vfio *sio_machine_vfio(struct sio_machine *m)
{
	return m->vfio;
}

SIO_API struct sio_iommu *sio_machine_iommu(struct sio_machine *m)
{
	return m->iommu;
}

static int add_device_stats(const struct sio_machine_device_info *info,
			    void *arg)
{
	struct sio_machine_stats *st = arg;
	struct sio_device_stats ds;

	sio_device_stats(sio_pci_dev_device(info->pdev), &ds);
	st->translations += ds.translations;
	st->faults += ds.faults;
	return 0;
}

SIO_API void sio_machine_stats(struct sio_machine *m,
			       struct sio_machine_stats *out)
{
	struct sio_iommu_stats is;

	*out = (struct sio_machine_stats){ 0 };
	sio_iommu_stats(m->iommu, &is);
	out->maps = is.maps;
	out->unmaps = is.unmaps;
	sio_machine_for_each_device(m, add_device_stats, out);
}

SIO_API size_t sio_machine_device_count(const struct sio_machine *m)
{
	return m->nfns;
}

SIO_API int sio_machine_for_each_device(
	struct sio_machine *m,
	int (*fn)(const struct sio_machine_device_info *info, void *arg),
	void *arg)
{
	for (size_t i = 0; i < m->nfns; i++) {
		struct sio_machine_device_info info = {
			.bdf = m->nsfns[i].bdf,
			.model = m->fns[i].spec.model,
			.vendor = m->nsfns[i].vendor,
			.device = m->nsfns[i].device,
			.group = m->nsfns[i].group,
			.cdev = m->nsfns[i].cdev,
			.pdev = m->fns[i].pdev,
		};
		int rc = fn(&info, arg);

		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The namespace                                                        */
/* ------------------------------------------------------------------ */

static int set_dir(struct sio_machine *m, const char *dir)
{
	if (!dir || !realpath(dir, m->dir))
		return sio_err(dir ? -errno : -EINVAL, "machine: namespace dir %s",
			       dir ? dir : "(null)");
	return 0;
}

static int use_tree(struct sio_machine *m)
{
	return sio_ns_layout_create(&m->desc, m->dir, m->root, &m->layout);
}

SIO_API int sio_machine_namespace_build(struct sio_machine *m, const char *dir)
{
	int rc;

	if (m->layout)
		return sio_err(-EBUSY, "machine: it has a namespace already");
	rc = set_dir(m, dir);
	if (!rc)
		rc = sio_ns_build(m->dir, &m->desc);
	if (!rc)
		rc = use_tree(m);
	return rc;
}

SIO_API int sio_machine_namespace_attach(struct sio_machine *m, const char *dir)
{
	int rc;

	if (m->layout)
		return sio_err(-EBUSY, "machine: it has a namespace already");
	rc = set_dir(m, dir);
	if (rc)
		return rc;
	rc = sio_ns_stamp_matches(m->dir, &m->desc);
	if (rc == 0)
		return sio_err(-ESTALE, "machine: %s describes another machine",
			       m->dir);
	if (rc < 0)
		return rc;
	return use_tree(m);
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path) ? -1 : 0;
}

static int remove_tree(const char *dir)
{
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS))
		return sio_err(-errno, "machine: removing %s", dir);
	return 0;
}

SIO_API int sio_machine_namespace_private(struct sio_machine *m)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX];
	int rc;

	if (m->layout)
		return sio_err(-EBUSY, "machine: it has a namespace already");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(dir, sizeof(dir), "%s/softiommu-XXXXXX", tmp) >=
	    sizeof(dir))
		return sio_err(-ENAMETOOLONG, "machine: TMPDIR too long");
	if (!mkdtemp(dir))
		return sio_err(-errno, "machine: %s", dir);
	rc = sio_machine_namespace_build(m, dir);
	if (rc) {
		/* Ours from mkdtemp: remove it even without a stamp. */
		remove_tree(dir);
		return rc;
	}
	m->dir_owner = getpid();
	return 0;
}

SIO_API const char *sio_machine_namespace_dir(const struct sio_machine *m)
{
	return m->layout ? m->dir : NULL;
}

SIO_API int sio_machine_namespace_remove(const char *dir)
{
	char stamp[PATH_MAX];
	struct stat st;

	/* Only ever a tree the namespace wrote: it has the stamp. */
	if (!dir || dir[0] != '/' ||
	    (size_t)snprintf(stamp, sizeof(stamp), "%s/.softiommu-machine", dir) >=
		    sizeof(stamp))
		return sio_err(-EINVAL, "machine: bad namespace dir");
	if (lstat(stamp, &st))
		return sio_err(-ENOENT, "machine: %s is not a namespace tree", dir);
	return remove_tree(dir);
}

SIO_API enum sio_machine_path_kind sio_machine_resolve(
	const struct sio_machine *m, const char *path,
	struct sio_machine_path *out)
{
	return sio_ns_resolve(m->layout, m->dir, path, out);
}

SIO_API int sio_machine_lookup_node(const struct sio_machine *m,
				    const struct stat *st,
				    struct sio_machine_node *node)
{
	const struct sio_ns_node *n = sio_ns_lookup(m->layout, st);

	if (!n)
		return 0;
	node->id = (unsigned int)(n - m->layout->nodes);
	node->device = n->kind <= SIO_NS_DEV_VFIO_CDEV;
	node->rdev = n->rdev;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Opens                                                                */
/* ------------------------------------------------------------------ */

/* A memfd holding len bytes of text, positioned at 0. */
static int text_fd(const char *name, const void *text, size_t len, int flags)
{
	int fd = memfd_create(name, (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	size_t done = 0;

	if (fd < 0)
		return sio_err(-errno, "machine: memfd");
	while (done < len) {
		ssize_t n = sio_sys_write(fd, (const char *)text + done,
					  len - done);

		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;

			sio_sys_close(fd);
			return sio_err(err, "machine: memfd write");
		}
		done += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0 ||
	    ((flags & O_NONBLOCK) && sio_sys_fcntl(fd, F_SETFL, O_NONBLOCK) < 0)) {
		sio_sys_close(fd);
		return sio_err(-EIO, "machine: memfd");
	}
	return fd;
}

static int open_dump(struct sio_machine *m, size_t i, int flags)
{
	struct sio_device *dev = sio_pci_dev_device(m->fns[i].pdev);
	struct sio_group *group;
	char *text = NULL;
	size_t len = 0;
	int rc;

	rc = sio_device_group(dev, &group);
	if (rc)
		return rc;
	/* The domain stays valid in the read section (domains are freed
	 * after a grace period) and so do its table pages. */
	sio_rcu_read_lock();
	rc = sio_ns_domain_dump(sio_group_domain(group), m->nsfns[i].bdf, &text,
				&len);
	sio_rcu_read_unlock();
	sio_group_put(group);
	if (!rc)
		rc = text_fd("domain_translation_struct", text, len, flags);
	free(text);
	return rc;
}

static int open_config(struct sio_machine *m, size_t i, int flags)
{
	uint32_t size = m->nsfns[i].config_size;
	uint8_t *buf = sio_malloc(size);
	int rc = 0;

	if (!buf)
		return sio_err(-ENOMEM, "machine: out of memory");
	for (uint32_t off = 0; !rc && off < size; off += 4) {
		uint32_t v = 0;

		rc = sio_pci_config_read(m->fns[i].pdev, off, 4, &v);
		memcpy(buf + off, &v, 4);	/* little endian, as the bus */
	}
	if (!rc)
		rc = text_fd("config", buf, size, flags);
	free(buf);
	return rc;
}

bool sio_machine_node_served(const struct sio_machine *m, unsigned int id)
{
	if (!m->layout || id >= m->layout->nnodes)
		return false;
	return m->layout->nodes[id].kind != SIO_NS_GEN_FAIL_ATTR;
}

SIO_API int sio_machine_open(struct sio_machine *m,
			     const struct sio_machine_node *node, int flags)
{
	const struct sio_ns_node *n;

	if (!m->layout || node->id >= m->layout->nnodes)
		return sio_err(-ENOENT, "machine: no such node");
	n = &m->layout->nodes[node->id];
	if ((flags & O_DIRECTORY) && n->kind <= SIO_NS_DEV_VFIO_CDEV)
		return sio_err(-ENOTDIR, "machine: a device node");
	switch (n->kind) {
	case SIO_NS_DEV_IOMMU:
		return sio_iommufd_open_fd(m->host, flags);
	case SIO_NS_DEV_VFIO_CONTAINER:
		return sio_vfio_open_container(m->vfio, flags);
	case SIO_NS_DEV_VFIO_GROUP:
		return sio_vfio_open_group(m->vfio, n->index, flags);
	case SIO_NS_DEV_VFIO_CDEV:
		return sio_vfio_open_cdev(m->vfio, n->index, flags);
	case SIO_NS_GEN_DOMAIN_DUMP:
		return open_dump(m, n->index, flags);
	case SIO_NS_GEN_CONFIG:
		return open_config(m, n->index, flags);
	case SIO_NS_GEN_FAIL_ATTR:
		return sio_fail_attr_open(n->index / 16, n->index % 16, flags);
	}
	return sio_err(-ENOENT, "machine: no such node");
}
