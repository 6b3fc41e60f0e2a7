/*
 * The device list parser (devlist.h).
 *
 * Two passes: the first reads every item and checks what it says on its
 * own (model, options, BDF text); the second places the functions, given
 * BDFs first, so a function placed by the list never moves one that was
 * placed before it in the text, then the rest in free slots of the
 * machine's own segment.  A given BDF that a real device holds is refused
 * unless the item says force: an emulated function there would hide the
 * real one from every program of the run.
 */
#include "machine/devlist.h"
#include "machine/models.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "softiommu/pci.h"
#include "util/error.h"

/* A token of an item, trimmed of blanks: [s, s + len). */
struct tok {
	const char *s;
	size_t len;
};

static struct tok trim(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return (struct tok){ s, len };
}

static bool tok_is(struct tok t, const char *word)
{
	return t.len == strlen(word) && !memcmp(t.s, word, t.len);
}

/* Whether the host has a real PCI device at bdf. */
static bool real_device(const char *sysfs, uint32_t bdf)
{
	char path[PATH_MAX], name[16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sysfs,
		 sio_pci_bdf_format(bdf, name, sizeof(name)));
	return lstat(path, &st) == 0;
}

static int parse_option(struct tok opt, unsigned int item,
			struct sio_devspec *spec)
{
	char text[32];

	if (tok_is(opt, "force")) {
		spec->force = true;
		return 0;
	}
	if (opt.len >= 4 && !memcmp(opt.s, "bdf=", 4)) {
		struct tok v = trim(opt.s + 4, opt.len - 4);

		if (spec->bdf_given)
			return sio_err(-EINVAL, "device %u: bdf= given twice", item);
		if (v.len >= sizeof(text) ||
		    (snprintf(text, sizeof(text), "%.*s", (int)v.len, v.s),
		     sio_pci_bdf_parse(text, &spec->bdf)))
			return sio_err(-EINVAL,
				       "device %u: bad BDF '%.*s' (SSSS:BB:DD.F)",
				       item, (int)v.len, v.s);
		spec->bdf_given = true;
		return 0;
	}
	return sio_err(-EINVAL,
		       "device %u: unknown option '%.*s' (bdf=SSSS:BB:DD.F, force)",
		       item, (int)opt.len, opt.s);
}

/* One item "model[,option...]" of the list. */
static int parse_item(struct tok item, unsigned int n, struct sio_devspec *spec)
{
	const char *end = item.s + item.len, *p = item.s;
	bool first = true;
	int rc;

	memset(spec, 0, sizeof(*spec));
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		struct tok t = trim(p, (size_t)(stop - p));

		if (first) {
			if (!t.len)
				return sio_err(-EINVAL, "device %u: no model", n);
			if (t.len >= sizeof(spec->model) ||
			    (snprintf(spec->model, sizeof(spec->model), "%.*s",
				      (int)t.len, t.s),
			     !sio_machine_model_find(spec->model)))
				return sio_err(-EINVAL,
					       "device %u: unknown model '%.*s' (known: %s)",
					       n, (int)t.len, t.s,
					       sio_machine_model_names());
			first = false;
		} else {
			if (!t.len)
				return sio_err(-EINVAL, "device %u: empty option", n);
			rc = parse_option(t, n, spec);
			if (rc)
				return rc;
		}
		p = stop + 1;
	}
	return 0;
}

static bool bdf_taken(const struct sio_devspec *specs, size_t n, uint32_t bdf)
{
	for (size_t i = 0; i < n; i++)
		if (specs[i].bdf_given && specs[i].bdf == bdf)
			return true;
	return false;
}

/* The next free slot of the machine's segment from *cursor on. */
static int next_free_slot(const struct sio_devspec *specs, size_t n,
			  const char *sysfs, uint32_t *cursor, uint32_t *bdf)
{
	for (; *cursor < 256 * 32; (*cursor)++) {
		unsigned int bus = *cursor / 32, dev = *cursor % 32;
		uint32_t b = SIO_PCI_BDF(SIO_DEVLIST_SEGMENT, bus, dev, 0);

		/* Device 0 of bus 0 is where a host bridge sits. */
		if (!bus && !dev)
			continue;
		if (bdf_taken(specs, n, b) || real_device(sysfs, b))
			continue;
		*bdf = b;
		(*cursor)++;
		return 0;
	}
	return sio_err(-EINVAL, "no free slot left in segment %04x",
		       SIO_DEVLIST_SEGMENT);
}

int sio_devlist_parse(const char *list, const char *sysfs,
		      struct sio_devspec *specs, size_t *count)
{
	struct tok all;
	const char *p, *end;
	uint32_t cursor = 0;
	size_t n = 0;
	int rc;

	*count = 0;
	if (!sysfs)
		sysfs = "/sys";
	if (!list)
		list = "";
	all = trim(list, strlen(list));
	if (!all.len)
		all = (struct tok){ SIO_DEVLIST_DEFAULT, strlen(SIO_DEVLIST_DEFAULT) };
	if (tok_is(all, "none"))
		return 0;

	end = all.s + all.len;
	for (p = all.s; p <= end; n++) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi ? semi : end;
		struct tok item = trim(p, (size_t)(stop - p));

		if (!item.len)
			return sio_err(-EINVAL, "device %zu: empty item in '%s'",
				       n + 1, list);
		if (n == SIO_DEVLIST_MAX)
			return sio_err(-EINVAL, "more than %d devices",
				       SIO_DEVLIST_MAX);
		rc = parse_item(item, (unsigned int)n + 1, &specs[n]);
		if (rc)
			return rc;
		p = stop + 1;
	}

	for (size_t i = 0; i < n; i++) {
		char name[16];

		if (!specs[i].bdf_given)
			continue;
		sio_pci_bdf_format(specs[i].bdf, name, sizeof(name));
		if (bdf_taken(specs, i, specs[i].bdf))
			return sio_err(-EINVAL, "device %zu: BDF %s given twice",
				       i + 1, name);
		if (!specs[i].force && real_device(sysfs, specs[i].bdf))
			return sio_err(-EEXIST,
				       "device %zu: %s is a real PCI device of this host (add ',force' to shadow it)",
				       i + 1, name);
	}
	for (size_t i = 0; i < n; i++) {
		if (specs[i].bdf_given)
			continue;
		rc = next_free_slot(specs, n, sysfs, &cursor, &specs[i].bdf);
		if (rc)
			return rc;
	}
	*count = n;
	return 0;
}
