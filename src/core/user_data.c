/*
 * Driver data from users: the kernel's copy rules for one structure
 * (iommu_copy_struct_from_user) and for an array of entries
 * (iommu_copy_struct_from_user_array), applied for every driver in one
 * place so each driver only names its type and sizes.
 *
 * The rules (__iommu_copy_struct_from_user): the type must be the driver's
 * (-EINVAL); a length below the structure's first version, or above the
 * structure the driver knows, is -EINVAL; a shorter one is zero-extended,
 * which is how an older program talks to a newer driver.
 */
#include <string.h>

#include "core/core.h"

/* The checks; then the copy, once the bytes are in memory (src may be NULL
 * while only checking). */
static int copy_checked(void *dst, size_t dst_size, size_t min_len,
			const unsigned char *src, size_t len, uint32_t type,
			uint32_t want)
{
	if (type != want)
		return sio_err(-EINVAL, "user data: type %u, expected %u", type,
			       want);
	if (len < min_len || len > dst_size)
		return sio_err(-EINVAL, "user data: %zu bytes, not in [%zu, %zu]",
			       len, min_len, dst_size);
	if (!src)
		return 0;
	memset(dst, 0, dst_size);
	memcpy(dst, src, len);
	return 0;
}

SIO_API int sio_user_data_copy(void *dst, size_t dst_size, size_t min_len,
			       const struct sio_user_data *ud, uint32_t type)
{
	if (!ud)
		return sio_err(-EINVAL, "user data: none, expected type %u",
			       type);
	return copy_checked(dst, dst_size, min_len, ud->buf, ud->len, ud->type,
			    type);
}

SIO_API int sio_user_data_copy_out(struct sio_user_data *ud, const void *src,
				   size_t src_size, size_t min_len,
				   uint32_t type)
{
	size_t n;

	if (!ud || !src)
		return sio_err(-EINVAL, "user data: nothing to report");
	if (ud->type != type)
		return sio_err(-EINVAL, "user data: type %u, expected %u",
			       ud->type, type);
	if (ud->len < min_len)
		return sio_err(-EINVAL, "user data: %zu bytes, below %zu",
			       ud->len, min_len);
	/* buf holds min(len, SIO_USER_DATA_MAX) bytes. */
	n = ud->len < src_size ? ud->len : src_size;
	if (n > SIO_USER_DATA_MAX)
		n = SIO_USER_DATA_MAX;
	memcpy(ud->buf, src, n);
	ud->out_len = n;
	return 0;
}

SIO_API int sio_user_data_array_copy(void *dst, size_t dst_size,
				     size_t min_len,
				     const struct sio_user_data_array *array,
				     uint32_t type, uint32_t index)
{
	int rc;

	if (!array || index >= array->entry_num || !array->read)
		return sio_err(-EINVAL, "user data array: no entry %u", index);
	/* Check before reading anything, as the kernel does; an entry that
	 * passes fits in dst, so it is read there directly. */
	rc = copy_checked(dst, dst_size, min_len, NULL, array->entry_len,
			  array->type, type);
	if (rc)
		return rc;
	memset(dst, 0, dst_size);
	if (array->read(array->ctx, (uint64_t)index * array->entry_len, dst,
			array->entry_len))
		return sio_err(-EFAULT, "user data array: entry %u unreadable",
			       index);
	return 0;
}

static int read_buf(void *ctx, uint64_t offset, void *dst, size_t len)
{
	memcpy(dst, (const unsigned char *)ctx + offset, len);
	return 0;
}

SIO_API void sio_user_data_array_init_buf(struct sio_user_data_array *array,
					  uint32_t type, const void *buf,
					  uint32_t entry_len,
					  uint32_t entry_num)
{
	array->type = type;
	array->entry_len = entry_len;
	array->entry_num = entry_num;
	array->read = read_buf;
	array->ctx = (void *)buf;
}
