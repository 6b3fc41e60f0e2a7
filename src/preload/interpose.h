/*
 * What every file of the shim needs to interpose a libc function: the
 * export marker (the shim's only exported symbols are the interposers,
 * preload.map) and REAL(name), the next definition of name (libc's),
 * resolved on first use with dlsym(RTLD_NEXT).  A racing second
 * resolution stores the same pointer, so a relaxed atomic is enough.
 */
#ifndef SIO_PRELOAD_INTERPOSE_H
#define SIO_PRELOAD_INTERPOSE_H

#include <dlfcn.h>

#define EXPORT __attribute__((visibility("default")))

#define REAL(name)							\
	({								\
		static __typeof__(&name) real_##name;			\
		__typeof__(&name) fn = __atomic_load_n(&real_##name,	\
						       __ATOMIC_RELAXED); \
		if (!fn) {						\
			fn = (__typeof__(&name))dlsym(RTLD_NEXT, #name); \
			__atomic_store_n(&real_##name, fn, __ATOMIC_RELAXED); \
		}							\
		fn;							\
	})

#endif
