/*
 * Where the namespace shows in the process's filesystem (namespace.h).
 *
 * The tree holds every emulated entry, but a path is sent to it only under
 * a root, so the host's own entries stay visible beside the emulated ones:
 * /sys/bus/pci/devices/0000:00:03.0 is the host's, 0100:00:01.0 the
 * tree's.  Each emulated entry (an anchor: a function's directory and
 * links, its group, its nodes) gets as root the topmost component of its
 * path that the host does not have, found by lstat at creation; where the
 * host has the whole path (a real IOMMU group numbered like the emulated
 * one, a forced BDF), the entry itself is the root and shadows the host's.
 * The host directories above the roots are unions: listing them shows the
 * host's entries and the tree's.
 *
 * Device nodes and generated files are known by their placeholders'
 * device and inode numbers, so an open or stat finds them through any
 * name (/sys/bus/pci/devices/B/config and /sys/devices/pci.../B/config are
 * one file), as a kernel would by the inode.
 */
#include "machine/namespace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "file/fail_files.h"
#include "util/error.h"
#include "util/fail.h"

struct strv {
	char **v;
	size_t n, cap;
};

static int strv_add(struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		char **v = sio_realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	if (!(s->v[s->n] = sio_strdup(str)))
		return -ENOMEM;
	s->n++;
	return 0;
}

static int strv_addf(struct strv *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int strv_addf(struct strv *s, const char *fmt, ...)
{
	char buf[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return strv_add(s, buf);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Every emulated entry that may sit beside host entries. */
static int anchors(const struct sio_ns_desc *d, struct strv *a)
{
	int rc = 0;

	rc |= strv_add(a, "/dev/iommu");
	rc |= strv_add(a, "/dev/vfio/vfio");
	rc |= strv_addf(a, "/sys/class/iommu/%s", d->iommu);
	rc |= strv_addf(a, "/sys/devices/virtual/iommu/%s", d->iommu);
	for (unsigned int k = 0; k < SIO_FAIL_NR_KINDS; k++)
		rc |= strv_addf(a, "/sys/kernel/debug/%s", sio_fail_dir_name(k));
	for (size_t i = 0; i < d->nfns; i++) {
		const struct sio_ns_function *f = &d->fns[i];
		char dir[PATH_MAX], b[16];

		sio_ns_fn_dir(f, dir);
		sio_pci_bdf_format(f->bdf, b, sizeof(b));
		rc |= strv_add(a, dir);
		rc |= strv_addf(a, "/sys/bus/pci/devices/%s", b);
		rc |= strv_addf(a, "/sys/bus/pci/drivers/vfio-pci/%s", b);
		rc |= strv_addf(a, "/sys/kernel/iommu_groups/%u", f->group);
		rc |= strv_addf(a, "/sys/class/vfio-dev/vfio%u", f->cdev);
		rc |= strv_addf(a, "/sys/class/vfio/%u", f->group);
		rc |= strv_addf(a, "/sys/devices/virtual/vfio/%u", f->group);
		rc |= strv_addf(a, "/sys/dev/char/%u:%u", SIO_NS_VFIO_DEV_MAJOR,
				f->cdev);
		rc |= strv_addf(a, "/dev/vfio/%u", f->group);
		rc |= strv_addf(a, "/dev/vfio/devices/vfio%u", f->cdev);
		rc |= strv_addf(a, "/sys/kernel/debug/iommu/intel/%s", b);
	}
	return rc ? -ENOMEM : 0;
}

/* The group nodes' /sys/dev/char links need the minors the tree gave. */
static int group_char_anchors(const char *dir, struct strv *a)
{
	char path[PATH_MAX];
	int rc = 0;

	for (size_t i = 0, n = a->n; i < n; i++) {
		unsigned int g, maj, min;
		char buf[32];
		FILE *f;

		if (sscanf(a->v[i], "/sys/devices/virtual/vfio/%u", &g) != 1)
			continue;
		snprintf(path, sizeof(path), "%s%s/dev", dir, a->v[i]);
		f = fopen(path, "re");
		if (!f)
			return -errno;
		if (!fgets(buf, sizeof(buf), f) ||
		    sscanf(buf, "%u:%u", &maj, &min) != 2)
			rc = -EINVAL;
		fclose(f);
		if (!rc)
			rc = strv_addf(a, "/sys/dev/char/%u:%u", maj, min);
		if (rc)
			return rc;
	}
	return 0;
}

static bool host_has(const char *real, const char *path)
{
	char buf[PATH_MAX];
	struct stat st;

	snprintf(buf, sizeof(buf), "%s%s", real, path);
	return lstat(buf, &st) == 0;
}

/* The root of anchor: its topmost component the host lacks, or itself. */
static int add_root(struct strv *roots, const char *real, const char *anchor)
{
	char prefix[PATH_MAX];
	const char *p = anchor;

	for (;;) {
		const char *slash = strchr(p + 1, '/');
		size_t len = slash ? (size_t)(slash - anchor) : strlen(anchor);

		snprintf(prefix, sizeof(prefix), "%.*s", (int)len, anchor);
		if (!host_has(real, prefix) || !slash)
			return strv_add(roots, prefix);
		p = slash;
	}
}

static bool under(const char *path, const char *root)
{
	size_t n = strlen(root);

	return !strncmp(path, root, n) && (path[n] == '/' || !path[n]);
}

/* Drop roots inside other roots. */
static void prune_roots(struct strv *r)
{
	for (size_t i = 0; i < r->n; i++) {
		bool inner = false;

		for (size_t j = 0; j < r->n && !inner; j++)
			inner = j != i && under(r->v[i], r->v[j]);
		if (inner) {
			free(r->v[i]);
			r->v[i--] = r->v[--r->n];
		}
	}
}

static int add_node(struct sio_ns_layout *l, const char *dir,
		    enum sio_ns_node_kind kind, unsigned int index, dev_t rdev,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int add_node(struct sio_ns_layout *l, const char *dir,
		    enum sio_ns_node_kind kind, unsigned int index, dev_t rdev,
		    const char *fmt, ...)
{
	char path[PATH_MAX], full[PATH_MAX + 64];
	struct sio_ns_node *n;
	struct stat st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s%s", dir, path);
	if (lstat(full, &st))
		return sio_err(-errno, "namespace: %s", full);
	for (size_t i = 0; i < l->nnodes; i++)
		if (l->nodes[i].st_dev == st.st_dev &&
		    l->nodes[i].st_ino == st.st_ino)
			return 0;
	n = sio_realloc(l->nodes, (l->nnodes + 1) * sizeof(*n));
	if (!n)
		return sio_err(-ENOMEM, "namespace: layout");
	l->nodes = n;
	l->nodes[l->nnodes++] = (struct sio_ns_node){
		.kind = kind, .index = index, .rdev = rdev,
		.st_dev = st.st_dev, .st_ino = st.st_ino,
	};
	return 0;
}

static int nodes(struct sio_ns_layout *l, const struct sio_ns_desc *d,
		 const char *dir)
{
	int rc;

	rc = add_node(l, dir, SIO_NS_DEV_IOMMU, 0,
		      makedev(SIO_NS_MISC_MAJOR, SIO_NS_IOMMU_MINOR), "/dev/iommu");
	if (!rc)
		rc = add_node(l, dir, SIO_NS_DEV_VFIO_CONTAINER, 0,
			      makedev(SIO_NS_MISC_MAJOR, SIO_NS_VFIO_MINOR),
			      "/dev/vfio/vfio");
	for (unsigned int k = 0; !rc && k < SIO_FAIL_NR_KINDS; k++)
		for (unsigned int at = 0; !rc && at < SIO_FAIL_NR_ATTRS; at++)
			if (sio_fail_attr_name(k, at))
				rc = add_node(l, dir, SIO_NS_GEN_FAIL_ATTR,
					      SIO_NS_FAIL_INDEX(k, at), 0,
					      "/sys/kernel/debug/%s/%s",
					      sio_fail_dir_name(k),
					      sio_fail_attr_name(k, at));
	for (size_t i = 0; !rc && i < d->nfns; i++) {
		const struct sio_ns_function *f = &d->fns[i];
		char fdir[PATH_MAX], path[PATH_MAX + 64], b[16];
		unsigned int maj = 0, min = 0;
		char text[32] = "";
		FILE *file;

		sio_ns_fn_dir(f, fdir);
		sio_pci_bdf_format(f->bdf, b, sizeof(b));
		rc = add_node(l, dir, SIO_NS_DEV_VFIO_CDEV, f->cdev,
			      makedev(SIO_NS_VFIO_DEV_MAJOR, f->cdev),
			      "/dev/vfio/devices/vfio%u", f->cdev);
		/* The group node's minor is the one its sysfs shows. */
		snprintf(path, sizeof(path), "%s/sys/devices/virtual/vfio/%u/dev",
			 dir, f->group);
		file = fopen(path, "re");
		if (!rc && (!file || !fgets(text, sizeof(text), file) ||
			    sscanf(text, "%u:%u", &maj, &min) != 2))
			rc = sio_err(-EINVAL, "namespace: %s unreadable", path);
		if (file)
			fclose(file);
		if (!rc)
			rc = add_node(l, dir, SIO_NS_DEV_VFIO_GROUP, f->group,
				      makedev(maj, min), "/dev/vfio/%u", f->group);
		if (!rc)
			rc = add_node(l, dir, SIO_NS_GEN_DOMAIN_DUMP, (unsigned int)i,
				      0, "/sys/kernel/debug/iommu/intel/%s/domain_translation_struct",
				      b);
		if (!rc)
			rc = add_node(l, dir, SIO_NS_GEN_CONFIG, (unsigned int)i, 0,
				      "%s/config", fdir);
	}
	return rc;
}

int sio_ns_layout_create(const struct sio_ns_desc *desc, const char *dir,
			 const char *real, struct sio_ns_layout **out)
{
	struct strv a = { 0 }, roots = { 0 }, unions = { 0 };
	struct sio_ns_layout *l = sio_calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return sio_err(-ENOMEM, "namespace: layout");
	rc = anchors(desc, &a);
	if (!rc)
		rc = group_char_anchors(dir, &a);
	for (size_t i = 0; !rc && i < a.n; i++)
		rc = add_root(&roots, real, a.v[i]);
	if (!rc)
		prune_roots(&roots);
	/* Every host directory above a root, "/" aside, lists it. */
	for (size_t i = 0; !rc && i < roots.n; i++) {
		char up[PATH_MAX];
		char *slash;

		snprintf(up, sizeof(up), "%s", roots.v[i]);
		while (!rc && (slash = strrchr(up, '/')) && slash != up) {
			*slash = '\0';
			rc = strv_add(&unions, up);
		}
	}
	if (rc)
		rc = sio_err(rc, "namespace: layout");
	else
		rc = nodes(l, desc, dir);
	strv_free(a.v, a.n);
	l->roots = roots.v;
	l->nroots = roots.n;
	l->unions = unions.v;
	l->nunions = unions.n;
	if (rc) {
		sio_ns_layout_destroy(l);
		return rc;
	}
	*out = l;
	return 0;
}

void sio_ns_layout_destroy(struct sio_ns_layout *l)
{
	if (!l)
		return;
	strv_free(l->roots, l->nroots);
	strv_free(l->unions, l->nunions);
	free(l->nodes);
	free(l);
}

/* path without repeated '/' and "." components into buf; *dir_only when
 * it ended in '/' (or "/."), which the tree's path must keep.  False if
 * it does not fit. */
static bool normalize(const char *path, char *buf, size_t size, bool *dir_only)
{
	bool trailing = false;
	const char *p = path;
	size_t pos = 0;

	while (*p) {
		const char *end;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p) {
			trailing = true;
			break;
		}
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		if (len == 1 && *p == '.') {
			p = end;
			trailing = !*p;
			continue;
		}
		if (pos + 1 + len >= size)
			return false;
		buf[pos++] = '/';
		memcpy(buf + pos, p, len);
		pos += len;
		trailing = false;
		p = end;
	}
	*dir_only = trailing && pos > 0;
	if (!pos)
		buf[pos++] = '/';
	buf[pos] = '\0';
	return true;
}

enum sio_machine_path_kind sio_ns_resolve(const struct sio_ns_layout *l,
					  const char *dir, const char *path,
					  struct sio_machine_path *out)
{
	char norm[PATH_MAX];
	bool dir_only;

	out->kind = SIO_MACHINE_PATH_NONE;
	if (!l || !path || path[0] != '/')
		return out->kind;
	if (!normalize(path, norm, sizeof(norm), &dir_only))
		return out->kind;
	for (size_t i = 0; i < l->nroots; i++) {
		if (!under(norm, l->roots[i]))
			continue;
		if ((size_t)snprintf(out->path, sizeof(out->path), "%s%s%s", dir,
				     norm, dir_only ? "/" : "") >= sizeof(out->path))
			return out->kind;
		return out->kind = SIO_MACHINE_PATH_REDIRECT;
	}
	for (size_t i = 0; i < l->nunions; i++) {
		if (strcmp(norm, l->unions[i]))
			continue;
		if ((size_t)snprintf(out->path, sizeof(out->path), "%s%s", dir,
				     norm) >= sizeof(out->path))
			return out->kind;
		return out->kind = SIO_MACHINE_PATH_UNION;
	}
	return out->kind;
}

const struct sio_ns_node *sio_ns_lookup(const struct sio_ns_layout *l,
					const struct stat *st)
{
	for (size_t i = 0; l && i < l->nnodes; i++)
		if (l->nodes[i].st_ino == st->st_ino &&
		    l->nodes[i].st_dev == st->st_dev)
			return &l->nodes[i];
	return NULL;
}
