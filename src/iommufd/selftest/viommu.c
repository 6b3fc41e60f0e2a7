/*
 * vIOMMU test ops of the selftest ABI: IOMMU_TEST_OP_TRIGGER_VEVENT makes
 * a bound mock device report an event to the vIOMMU whose nested HWPT its
 * RID is attached to, naming its virtual ID there (the mock driver
 * builds the record, sio_mock_dev_trigger_vevent; it reaches the vIOMMU's
 * vEVENTQ through the core, veventq.c).  -ENOENT when the device is not
 * attached to such a HWPT or has no vDEVICE on it, -EOPNOTSUPP when the
 * vIOMMU has no vEVENTQ of the selftest type.
 */
#include "iommufd/iommufd_private.h"
#include "iommufd/selftest/selftest.h"
#include "softiommu/mock.h"

int iommufd_test_trigger_vevent(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct iommufd_object *obj;
	int rc;

	obj = iommufd_get_object(ucmd->ictx, cmd->trigger_vevent.dev_id,
				 IOMMUFD_OBJ_DEVICE, &rc);
	if (!obj)
		return rc;
	rc = sio_mock_dev_trigger_vevent(
		sio_container_of(obj, struct iommufd_device, obj)->dev);
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}
