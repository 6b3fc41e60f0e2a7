/*
 * Thread-local error messages (see error.h for why they are per thread).
 *
 * A message is formatted when someone asks for it, not when it is left:
 * many errors are answers a program expects (IOMMU_DESTROY of an ID that
 * is gone is ENOENT, a probe of an unsupported option EOPNOTSUPP), and
 * printf-formatting each one cost more than the rest of the ioctl.  So
 * sio_err() keeps the format and a copy of its arguments: numbers by
 * value, strings copied (the caller's buffer may be gone by the time the
 * message is read), and sio_last_error() formats them, once.  A format
 * this capture does not know (a conversion it cannot type, too many
 * arguments, strings longer than the pool) is formatted at once as
 * before, so the text is the same either way.
 */
#include "util/error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "softiommu/common.h"

#define ERR_TEXT 256
#define ERR_MAX_ARGS 10
#define ERR_POOL 160

/* One captured conversion argument, by the type printf reads it as. */
union err_arg {
	long long i;
	unsigned long long u;
	double d;
	void *p;
	unsigned short s;	/* a string: its offset in the pool */
};

/*
 * What capture() must take from the arguments of one format, learnt once
 * per format and kept in a small per-thread cache keyed by the format's
 * address: the kind of each argument slot.  An integer or a pointer of any
 * size is one 64-bit slot on x86-64 (an int's upper half is not defined,
 * and render() converts back to the type the conversion reads); a double
 * comes from the floating-point registers; a string is copied.
 */
enum arg_kind {
	K_WORD,		/* any integer or pointer, a star's int */
	K_DOUBLE,
	K_STR,		/* %s */
	K_STR_PREC,	/* %.*s: the precision is the slot before */
};

#define ERR_FMT_CACHE 16

struct fmt_info {
	const char *fmt;
	unsigned char n;		/* slots; ERR_UNCAPTURED: format now */
	unsigned char kind[ERR_MAX_ARGS];
};

#define ERR_UNCAPTURED 0xff

struct err_state {
	const char *fmt;	/* a message not formatted yet, or NULL */
	const char *prefix;	/* sio_err_prefix(), not applied yet */
	const char *unless;
	int err;
	unsigned int nargs;
	size_t pool_len;
	union err_arg args[ERR_MAX_ARGS];
	char pool[ERR_POOL];
	char text[ERR_TEXT];	/* the formatted message */
	/* In the same thread-local block as the rest: one __tls_get_addr. */
	struct fmt_info fmt_cache[ERR_FMT_CACHE];
};

static _Thread_local struct err_state err_state;
/* &err_state, cached in an initial-exec thread-local: the state is too
 * large for the static TLS block a dlopen() may find, so it stays
 * general-dynamic, and each sio_err() would otherwise pay a call to
 * __tls_get_addr to find it (a fifth of an IOMMU_DESTROY that fails). */
static _Thread_local struct err_state *err_self
	__attribute__((tls_model("initial-exec")));
/* Whether err_state holds a message: the clear at every entry point reads
 * only this (initial-exec, a load from the thread pointer), not the
 * state's larger block, which a shared library reaches through a call. */
_Thread_local bool sio_err_dirty __attribute__((tls_model("initial-exec")));
#define err_dirty sio_err_dirty

static inline struct err_state *err_get(void)
{
	struct err_state *st = err_self;

	if (__builtin_expect(!st, 0))
		st = err_self = &err_state;
	return st;
}

/* The parts of one conversion specification. */
struct spec {
	const char *start;	/* at the '%' */
	size_t len;		/* through the conversion character */
	bool width_star, prec_star;
	char length[3];		/* "", "h", "hh", "l", "ll", "z", "j", "t" */
	char conv;
};

/* Parse the conversion at f (just past a '%'); false for what the capture
 * does not handle (%n, long double, positional arguments). */
static bool parse_spec(const char *f, struct spec *s)
{
	const char *p = f;
	size_t n = 0;

	s->start = f - 1;
	s->width_star = s->prec_star = false;
	while (*p && strchr("-+ #0'", *p))
		p++;
	if (*p == '*') {
		s->width_star = true;
		p++;
	} else {
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == '$')
		return false;
	if (*p == '.') {
		p++;
		if (*p == '*') {
			s->prec_star = true;
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	while (*p && strchr("hlzjt", *p) && n < 2)
		s->length[n++] = *p++;
	s->length[n] = '\0';
	if (!*p || !strchr("diouxXcspeEfFgGaA%", *p))
		return false;
	s->conv = *p;
	s->len = (size_t)(p + 1 - s->start);
	return true;
}

static bool is_signed_conv(char c)
{
	return c == 'd' || c == 'i';
}

static bool is_unsigned_conv(char c)
{
	return c == 'o' || c == 'u' || c == 'x' || c == 'X';
}

static bool is_double_conv(char c)
{
	return strchr("eEfFgGaA", c) != NULL;
}


/* Learn fmt's argument kinds. */
static void learn(struct fmt_info *fi, const char *fmt)
{
	const char *f = fmt;
	unsigned int n = 0;

	fi->fmt = fmt;
	fi->n = ERR_UNCAPTURED;
	while ((f = strchr(f, '%'))) {
		struct spec s;

		if (!parse_spec(f + 1, &s))
			return;
		f = s.start + s.len;
		if (s.conv == '%')
			continue;
		if (n + s.width_star + s.prec_star + 1 > ERR_MAX_ARGS)
			return;
		if (s.width_star)
			fi->kind[n++] = K_WORD;
		if (s.prec_star)
			fi->kind[n++] = K_WORD;
		if (s.conv == 's') {
			/* A literal precision bounds a string that need not
			 * end: not worth a kind of its own. */
			if (!s.prec_star && memchr(s.start, '.', s.len))
				return;
			fi->kind[n++] = s.prec_star ? K_STR_PREC : K_STR;
		} else if (is_double_conv(s.conv)) {
			if (strchr(s.length, 'L'))
				return;
			fi->kind[n++] = K_DOUBLE;
		} else {
			fi->kind[n++] = K_WORD;
		}
	}
	fi->n = (unsigned char)n;
}

/* Copy a string argument into the pool. */
static bool capture_str(struct err_state *st, union err_arg *a,
			const char *str, int prec)
{
	size_t n, room = ERR_POOL - st->pool_len;

	if (!str)
		str = "(null)";
	n = prec >= 0 ? strnlen(str, (size_t)prec) : strlen(str);
	if (n + 1 > room)
		return false;
	memcpy(st->pool + st->pool_len, str, n);
	st->pool[st->pool_len + n] = '\0';
	a->s = (unsigned short)st->pool_len;
	st->pool_len += n + 1;
	return true;
}

/* Capture every argument of fmt; false if the format needs formatting
 * now. */
static bool capture(struct err_state *st, const char *fmt, va_list *ap)
{
	struct fmt_info *fi =
		&st->fmt_cache[((uintptr_t)fmt >> 3) % ERR_FMT_CACHE];

	if (fi->fmt != fmt)
		learn(fi, fmt);
	if (fi->n == ERR_UNCAPTURED)
		return false;
	st->pool_len = 0;
	for (unsigned int i = 0; i < fi->n; i++) {
		union err_arg *a = &st->args[i];

		switch (fi->kind[i]) {
		case K_WORD:
			a->u = va_arg(*ap, unsigned long long);
			break;
		case K_DOUBLE:
			a->d = va_arg(*ap, double);
			break;
		case K_STR:
			if (!capture_str(st, a, va_arg(*ap, const char *), -1))
				return false;
			break;
		case K_STR_PREC:
			if (!capture_str(st, a, va_arg(*ap, const char *),
					 (int)st->args[i - 1].i))
				return false;
			break;
		}
	}
	st->nargs = fi->n;
	return true;
}

/* Format one captured conversion into out (room bytes); returns what
 * snprintf returns.  *k is the index of its first argument. */
static int render_one(const struct err_state *st, const struct spec *s,
		      unsigned int *k, char *out, size_t room)
{
	char fmt[48];
	const char *l = s->length;
	size_t n = 0;
	int width = 0, prec = -1;

	if (s->width_star)
		width = (int)st->args[(*k)++].i;
	if (s->prec_star)
		prec = (int)st->args[(*k)++].i;
	/* The specification with its stars spelled out as numbers. */
	for (size_t i = 0; i < s->len && n < sizeof(fmt) - 24; i++) {
		char c = s->start[i];

		if (c == '*' && i && s->start[i - 1] == '.') {
			if (prec >= 0)
				n += (size_t)snprintf(fmt + n, sizeof(fmt) - n, "%d",
						      prec);
			else
				n--;	/* a negative precision: none */
		} else if (c == '*') {
			n += (size_t)snprintf(fmt + n, sizeof(fmt) - n, "%d", width);
		} else {
			fmt[n++] = c;
		}
	}
	fmt[n] = '\0';
	{
		const union err_arg *a = &st->args[(*k)++];

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		if (is_signed_conv(s->conv)) {
			if (!strcmp(l, "ll") || !strcmp(l, "j"))
				return snprintf(out, room, fmt, a->i);
			if (!strcmp(l, "l") || !strcmp(l, "z") || !strcmp(l, "t"))
				return snprintf(out, room, fmt, (long)a->i);
			return snprintf(out, room, fmt, (int)a->i);
		}
		if (is_unsigned_conv(s->conv)) {
			if (!strcmp(l, "ll") || !strcmp(l, "j"))
				return snprintf(out, room, fmt, a->u);
			if (!strcmp(l, "l") || !strcmp(l, "z") || !strcmp(l, "t"))
				return snprintf(out, room, fmt, (unsigned long)a->u);
			return snprintf(out, room, fmt, (unsigned int)a->u);
		}
		if (s->conv == 'c')
			return snprintf(out, room, fmt, (int)a->i);
		if (s->conv == 'p')
			return snprintf(out, room, fmt, a->p);
		if (is_double_conv(s->conv))
			return snprintf(out, room, fmt, a->d);
		return snprintf(out, room, fmt, st->pool + a->s);
#pragma GCC diagnostic pop
	}
}

/* Turn the captured format and arguments into text. */
static void render(struct err_state *st)
{
	const char *f = st->fmt;
	size_t n = 0, room = sizeof(st->text);
	unsigned int k = 0;

	while (*f && n + 1 < room) {
		struct spec s;
		int w;

		if (*f != '%') {
			st->text[n++] = *f++;
			continue;
		}
		parse_spec(f + 1, &s);	/* capture() parsed it already */
		f = s.start + s.len;
		if (s.conv == '%') {
			st->text[n++] = '%';
			continue;
		}
		w = render_one(st, &s, &k, st->text + n, room - n);
		if (w < 0)
			break;
		n += (size_t)w < room - n ? (size_t)w : room - n - 1;
	}
	st->text[n] = '\0';
}

/* " (strerror)" after the message, if it fits. */
static void append_errno(struct err_state *st)
{
	size_t n = strlen(st->text);

	if (n < sizeof(st->text) - 16 && st->err < 0)
		snprintf(st->text + n, sizeof(st->text) - n, " (%s)",
			 strerror(-st->err));
}

/* "prefix: " in front of the text unless the text holds st->unless. */
static void apply_prefix(struct err_state *st)
{
	size_t p = strlen(st->prefix), t = strlen(st->text);

	/* memmove, so that the text may be cut at the end like snprintf
	 * would. */
	if (!strstr(st->text, st->unless) && p + 2 < sizeof(st->text)) {
		if (p + 2 + t >= sizeof(st->text))
			t = sizeof(st->text) - p - 3;
		memmove(st->text + p + 2, st->text, t);
		memcpy(st->text, st->prefix, p);
		st->text[p] = ':';
		st->text[p + 1] = ' ';
		st->text[p + 2 + t] = '\0';
	}
	st->prefix = NULL;
}

int sio_err(int err, const char *fmt, ...)
{
	struct err_state *st = err_get();
	va_list ap;
	bool captured;

	err_dirty = true;
	st->err = err;
	st->prefix = NULL;
	va_start(ap, fmt);
	captured = capture(st, fmt, &ap);
	va_end(ap);
	if (captured) {
		st->fmt = fmt;
		return err;
	}
	/* Walked again from the start (not a va_copy, whose copy of the
	 * just-written va_list stalls every call on store forwarding). */
	st->fmt = NULL;
	va_start(ap, fmt);
	vsnprintf(st->text, sizeof(st->text), fmt, ap);
	va_end(ap);
	append_errno(st);
	return err;
}

int sio_err_uint(int err, const char *fmt, ...)
{
	struct err_state *st = err_get();
	va_list ap;

	err_dirty = true;
	st->err = err;
	st->prefix = NULL;
	va_start(ap, fmt);
	st->args[0].u = va_arg(ap, unsigned int);
	va_end(ap);
	st->nargs = 1;
	st->pool_len = 0;
	st->fmt = fmt;
	return err;
}

void sio_err_prefix(int err, const char *prefix, const char *unless)
{
	struct err_state *st = err_get();

	if (!err_dirty || (!st->fmt && !st->text[0])) {
		sio_err(err, "%s", prefix);
		return;
	}
	st->prefix = prefix;
	st->unless = unless;
	if (!st->fmt)
		apply_prefix(st);
}

void sio_err_clear_dirty(void)
{
	struct err_state *st = err_get();

	st->fmt = NULL;
	st->prefix = NULL;
	st->text[0] = '\0';
	err_dirty = false;
}

SIO_API const char *sio_last_error(void)
{
	struct err_state *st;

	if (!err_dirty)
		return "";
	st = err_get();
	if (st->fmt) {
		render(st);
		append_errno(st);
		st->fmt = NULL;
		if (st->prefix)
			apply_prefix(st);
	}
	return st->text;
}

SIO_API const char *sio_version(void)
{
	return SIO_VERSION_STRING;
}
