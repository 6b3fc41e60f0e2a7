/*
 * Basic types and conventions shared by every softiommu header.
 *
 * Every function that can fail returns a negative errno value (the one the
 * Linux IOMMU subsystem returns for the same condition) and leaves a message
 * for humans that sio_last_error() returns on the same thread.  Objects are
 * opaque to users; drivers see the full definitions in softiommu/driver.h.
 */
#ifndef SOFTIOMMU_COMMON_H
#define SOFTIOMMU_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the symbols the shared library exports; everything else is hidden. */
#define SIO_API __attribute__((visibility("default")))

/* From a pointer to a member back to its container (the kernel's
 * container_of): how callers get from an attach handle to their data. */
#define sio_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* A PASID: up to 20 bits. SIO_NO_PASID names the requester ID (RID) itself,
 * as the kernel's IOMMU_NO_PASID does. */
typedef uint32_t sio_pasid_t;
#define SIO_NO_PASID 0u
#define SIO_PASID_INVALID UINT32_MAX
#define SIO_PASID_MAX_BITS 20

/* Access rights of a mapping and of a DMA: the kernel's IOMMU_READ/WRITE/... */
enum sio_prot {
	SIO_PROT_READ = 1u << 0,
	SIO_PROT_WRITE = 1u << 1,
	SIO_PROT_CACHE = 1u << 2,
	SIO_PROT_NOEXEC = 1u << 3,
	SIO_PROT_MMIO = 1u << 4,
	SIO_PROT_PRIV = 1u << 5,
};

struct sio_system;
struct sio_iommu;
struct sio_device;
struct sio_group;
struct sio_domain;

/* The message for the last error reported on this thread ("" if none). */
SIO_API const char *sio_last_error(void);

/* Library version, "MAJOR.MINOR.PATCH". */
SIO_API const char *sio_version(void);

#ifdef __cplusplus
}
#endif
#endif
