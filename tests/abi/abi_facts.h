/*
 * The ABI test's tables of facts.
 *
 * Two translation units describe the same names, one compiled against the
 * kernel's uAPI headers (abi_kernel.c) and one against softiommu's
 * (abi_ours.c).  Both expand the X-macro list abi_list.h through
 * abi_expand.h into an array of facts: one entry per measured property
 * (a struct's size, a field's offset, a constant's value, ...), in list
 * order, labelled with the kernel's name.  abi_main.c compares the arrays
 * entry by entry.  Everything is computed by the compiler that builds the
 * program, so the test checks the ABI of the machine it runs on.
 */
#ifndef SIO_TESTS_ABI_FACTS_H
#define SIO_TESTS_ABI_FACTS_H

#include <stddef.h>

/* What kind of item a fact belongs to (for the summary). */
enum abi_kind {
	ABI_K_STRUCT,
	ABI_K_FIELD,
	ABI_K_ENUM,
	ABI_K_CONST,
	ABI_K_IOCTL,
	ABI_K_COUNT
};

struct abi_fact {
	unsigned char kind;	/* enum abi_kind */
	unsigned char first;	/* first fact of its item */
	const char *item;	/* kernel name: "struct x", "x.field", "NAME" */
	const char *what;	/* "sizeof", "offsetof", "value", ... */
	long long value;
	/*
	 * For "is a macro": the name as spelled and its expansion; the fact's
	 * value is strcmp(spelled, expanded) != 0, computed at run time.
	 */
	const char *spelled;
	const char *expanded;
};

extern const struct abi_fact abi_kernel_facts[];
extern const size_t abi_kernel_nfacts;
extern const struct abi_fact abi_ours_facts[];
extern const size_t abi_ours_nfacts;

#endif
