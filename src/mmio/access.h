/*
 * An access to a trapping region by address, outside the fault handler:
 * the shared mode's server (src/shared/server.c) performs the loads and
 * stores that a client process trapped on its own view of a region the
 * server mapped (a VFIO BAR), through the same ops a trap here would use.
 */
#ifndef SIO_MMIO_ACCESS_H
#define SIO_MMIO_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

/* A load (*val out) or store (*val in) of size 1, 2, 4 or 8 bytes at addr,
 * which one registered region must hold whole: 0, or -EFAULT. */
int sio_mmio_access(uintptr_t addr, unsigned int size, bool write,
		    uint64_t *val);
/* Whether a registered region holds addr. */
bool sio_mmio_registered(uintptr_t addr);

#endif
