/*
 * A reader for /proc/<pid>/maps.
 *
 * Pinning needs to know, for each page of a range, whether it is mapped,
 * with which protections, shared or private, and backed by which file: the
 * maps file says all of that.  The reader is written to be usable in the
 * child side of fork (self.c re-privatises unshared ranges there), where
 * only async-signal-safe calls are allowed: the buffer comes from mmap, not
 * malloc, and parsing calls nothing from libc but memcmp.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "umem/umem.h"
#include "util/sys.h"

/*
 * The buffer is itself a mapping, made while the caller is looking for
 * holes: after the program unmaps a range, the kernel may well put the
 * buffer right there, and the parse would then report the library's own
 * buffer as the program's memory.  So the buffer sits between two PROT_NONE
 * guards (its own VMA can then never merge with the program's), the whole
 * allocation is hidden from sio_maps_next(), and a read that had to grow
 * the buffer starts again from the top, so that one parse never mixes two
 * buffer locations.
 */
#define MAPS_GUARD (64 * 1024)	/* a multiple of every page size */

static int maps_alloc(struct sio_maps *m, size_t cap)
{
	char *base = sio_sys_mmap(NULL, cap + 2 * MAPS_GUARD, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED)
		return -ENOMEM;
	if (sio_sys_mprotect(base + MAPS_GUARD, cap, PROT_READ | PROT_WRITE)) {
		sio_sys_munmap(base, cap + 2 * MAPS_GUARD);
		return -ENOMEM;
	}
	m->buf = base + MAPS_GUARD;
	m->cap = cap;
	m->len = 0;
	m->own_start = (uintptr_t)base;
	m->own_end = (uintptr_t)base + cap + 2 * MAPS_GUARD;
	return 0;
}

int sio_maps_read(const char *file, struct sio_maps *m)
{
	size_t cap = 64 * 1024;
	int fd, rc;

	m->buf = NULL;
	rc = maps_alloc(m, cap);
	if (rc)
		return rc;
	fd = sio_sys_open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		sio_maps_free(m);
		return rc;
	}
	for (;;) {
		ssize_t n;

		if (m->len == m->cap) {
			/* Grow, then read the whole file again. */
			cap = m->cap * 2;
			sio_maps_free(m);
			rc = maps_alloc(m, cap);
			if (!rc && lseek(fd, 0, SEEK_SET) != 0)
				rc = -errno;
			if (rc) {
				sio_sys_close(fd);
				sio_maps_free(m);
				return rc;
			}
		}
		n = sio_sys_read(fd, m->buf + m->len, m->cap - m->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			sio_sys_close(fd);
			sio_maps_free(m);
			return rc;
		}
		if (n == 0)
			break;
		m->len += (size_t)n;
	}
	sio_sys_close(fd);
	return 0;
}

void sio_maps_free(struct sio_maps *m)
{
	if (m->buf)
		sio_sys_munmap((void *)(uintptr_t)m->own_start,
			       (size_t)(m->own_end - m->own_start));
	m->buf = NULL;
	m->len = m->cap = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse a number in base 16 or 10 at *p (bounded by end), then skip one
 * separator if it is sep.  False on a malformed field. */
static bool parse_num(const char **p, const char *end, unsigned int base,
		      char sep, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;

	if (s >= end || (d = hexval(*s)) < 0 || (unsigned int)d >= base)
		return false;
	while (s < end && (d = hexval(*s)) >= 0 && (unsigned int)d < base) {
		v = v * base + (unsigned int)d;
		s++;
	}
	if (sep) {
		if (s >= end || *s != sep)
			return false;
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

static void skip_spaces(const char **p, const char *end)
{
	while (*p < end && **p == ' ')
		(*p)++;
}

/*
 * One line: "start-end perms offset major:minor inode   path".
 * A malformed line is skipped rather than failing the whole read: the
 * kernel's format has been stable for decades, so this only guards against
 * a truncated last line.
 */
bool sio_maps_next(const struct sio_maps *m, size_t *pos, struct sio_vma *v)
{
	const char *end = m->buf + m->len;

	while (*pos < m->len) {
		const char *line = m->buf + *pos;
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		const char *p = line;
		uint64_t maj, min;

		if (!eol)
			eol = end;
		*pos = (size_t)(eol - m->buf) + 1;

		if (!parse_num(&p, eol, 16, '-', &v->start) ||
		    !parse_num(&p, eol, 16, ' ', &v->end) || eol - p < 5)
			continue;
		v->prot = (p[0] == 'r' ? PROT_READ : 0) |
			  (p[1] == 'w' ? PROT_WRITE : 0) |
			  (p[2] == 'x' ? PROT_EXEC : 0);
		v->shared = p[3] == 's';
		p += 4;
		skip_spaces(&p, eol);
		if (!parse_num(&p, eol, 16, ' ', &v->offset) ||
		    !parse_num(&p, eol, 16, ':', &maj) ||
		    !parse_num(&p, eol, 16, ' ', &min) ||
		    !parse_num(&p, eol, 10, 0, &v->ino))
			continue;
		v->dev = makedev((unsigned int)maj, (unsigned int)min);
		skip_spaces(&p, eol);
		v->path = p;
		v->path_len = (size_t)(eol - p);
		/* Hide our own buffer.  Thanks to the guards a VMA can reach
		 * into it from one side only; if one ever spanned it, the far
		 * side would read as a hole: a failed pin, never a wrong one. */
		if (v->end > m->own_start && v->start < m->own_end) {
			if (v->start < m->own_start)
				v->end = m->own_start;
			else if (v->end > m->own_end)
				v->start = m->own_end;
			else
				continue;
		}
		return true;
	}
	return false;
}

bool sio_vma_path_is(const struct sio_vma *v, const char *s)
{
	size_t n = strlen(s);

	return v->path_len == n && memcmp(v->path, s, n) == 0;
}
