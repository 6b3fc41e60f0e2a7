/*
 * IOMMU_GET_HW_INFO (the kernel's iommufd_get_hw_info): the driver's
 * hardware description of a bound device's IOMMU, copied into the
 * program's buffer up to data_len (zero-filling the rest of a larger
 * buffer), with the length the driver has returned in data_len, plus the
 * capabilities and the PASID width.
 */
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_private.h"

int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_info *cmd = ucmd->cmd;
	struct sio_umem_owner *owner = ucmd->ictx->host->owner;
	struct iommufd_object *obj;
	struct iommufd_device *idev;
	void *data = NULL;
	size_t data_len = 0, copy_len;
	uint32_t type, max_pasids;
	int rc;

	if (cmd->flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_GET_HW_INFO: unknown flags %#x", cmd->flags);
	if (cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2])
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_GET_HW_INFO: reserved field set");
	/* Without the flag the type field is not an input. */
	if (!(cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE))
		cmd->in_data_type = IOMMU_HW_INFO_TYPE_DEFAULT;
	obj = iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE,
				 &rc);
	if (!obj)
		return rc;
	idev = sio_container_of(obj, struct iommufd_device, obj);

	type = cmd->in_data_type;
	rc = sio_device_hw_info(idev->dev, &type, &data, &data_len);
	if (rc == -EOPNOTSUPP && !data && cmd->in_data_type == 0) {
		/* A driver without hw_info: type NONE, no data. */
		type = IOMMU_HW_INFO_TYPE_NONE;
		data_len = 0;
		rc = 0;
	}
	if (rc)
		goto out_put;
	cmd->out_data_type = type;

	copy_len = cmd->data_len < data_len ? cmd->data_len : data_len;
	if (copy_len && sio_umem_write(owner, cmd->data_uptr, data, copy_len)) {
		rc = sio_err(-EFAULT,
			     "IOMMU_GET_HW_INFO: data_uptr not writable");
		goto out_free;
	}
	if (copy_len < cmd->data_len) {
		size_t left = cmd->data_len - copy_len;
		unsigned char zero[256];

		memset(zero, 0, sizeof(zero));
		for (uint64_t pos = cmd->data_uptr + copy_len; left;) {
			size_t n = left < sizeof(zero) ? left : sizeof(zero);

			if (sio_umem_write(owner, pos, zero, n)) {
				rc = sio_err(-EFAULT,
					     "IOMMU_GET_HW_INFO: data_uptr not writable");
				goto out_free;
			}
			pos += n;
			left -= n;
		}
	}
	cmd->data_len = data_len;
	cmd->out_capabilities = 0;
	if (sio_device_capable(idev->dev, SIO_CAP_DIRTY_TRACKING))
		cmd->out_capabilities |= IOMMU_HW_CAP_DIRTY_TRACKING;
	/* No device model offers ATS yet. */
	cmd->out_capabilities |= IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED;
	cmd->out_max_pasid_log2 = 0;
	max_pasids = sio_device_max_pasids(idev->dev);
	if (max_pasids)
		cmd->out_max_pasid_log2 = 31 - __builtin_clz(max_pasids);
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	free(data);
out_put:
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}
