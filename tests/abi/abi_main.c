/*
 * abi_iommufd: proves that softiommu's uAPI headers (include/softiommu/uapi/)
 * are byte-compatible with the kernel's (Linux 7.3 linux/iommufd.h,
 * drivers/iommu/iommufd/iommufd_test.h and the VFIO type1 part of
 * linux/vfio.h).
 *
 * Both fact tables come from the same list (abi_list.h), so they must have
 * the same entries in the same order; each pair of values must be equal.
 * Prints every mismatch, a summary of what was compared, and ends with
 * "N passed, M failed" (one check per fact).  Exit status 0 only if nothing
 * failed.  -v prints every fact.
 */
#include <stdio.h>
#include <string.h>

#include "abi_facts.h"

static long long fact_value(const struct abi_fact *f)
{
	if (f->spelled)
		return strcmp(f->spelled, f->expanded) != 0;
	return f->value;
}

int main(int argc, char **argv)
{
	static const char *const kind_names[ABI_K_COUNT] = {
		"structs", "fields", "enums", "constants", "ioctls",
	};
	unsigned int items[ABI_K_COUNT] = { 0 };
	unsigned int passed = 0, failed = 0;
	int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	size_t i;

	if (abi_kernel_nfacts != abi_ours_nfacts) {
		printf("internal error: %zu kernel facts but %zu softiommu facts\n",
		       abi_kernel_nfacts, abi_ours_nfacts);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	for (i = 0; i < abi_kernel_nfacts; i++) {
		const struct abi_fact *k = &abi_kernel_facts[i];
		const struct abi_fact *o = &abi_ours_facts[i];
		long long kv = fact_value(k), ov = fact_value(o);

		if (strcmp(k->item, o->item) != 0 ||
		    strcmp(k->what, o->what) != 0 || k->kind != o->kind) {
			printf("internal error: fact %zu is %s %s vs %s %s\n", i,
			       k->what, k->item, o->what, o->item);
			failed++;
			continue;
		}
		if (k->first)
			items[k->kind]++;
		if (kv == ov) {
			passed++;
			if (verbose)
				printf("ok   %-16s %-60s %lld\n", k->what, k->item, kv);
			continue;
		}
		failed++;
		printf("MISMATCH %s %s: kernel %lld (%#llx), softiommu %lld (%#llx)\n",
		       k->what, k->item, kv, (unsigned long long)kv, ov,
		       (unsigned long long)ov);
	}
	printf("compared");
	for (i = 0; i < ABI_K_COUNT; i++)
		printf("%s %u %s", i ? "," : "", items[i], kind_names[i]);
	printf(" (%zu facts)\n", abi_kernel_nfacts);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
