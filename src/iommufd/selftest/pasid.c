/*
 * The selftest ABI's PASID attachments and page faults (the kernel's
 * selftest.c, test side): PASID_ATTACH, PASID_REPLACE, PASID_DETACH and
 * PASID_CHECK_HWPT on the device of a selftest object, and TRIGGER_IOPF,
 * which makes a mock device send one last-in-group page request.
 *
 * Mock devices have page requests enabled from their creation, with a
 * device model that ignores the responses as the kernel's mock does
 * (mock_domain_page_response is empty): what the tests look at is the
 * fault fd.  A request nothing can take is answered at once and the op
 * still succeeds, as iommu_report_device_fault's result is ignored there.
 */
#include "iommufd/iommufd_private.h"
#include "iommufd/selftest/selftest.h"
#include "softiommu/mock.h"

static void mock_page_response(struct sio_device *dev, void *arg,
			       const struct sio_page_response *resp)
{
	(void)dev;
	(void)arg;
	(void)resp;
}

static const struct sio_iopf_device_ops mock_iopf_ops = {
	.page_response = mock_page_response,
};

int iommufd_selftest_iopf_enable(struct sio_device *dev)
{
	return sio_iopf_device_enable(dev, &mock_iopf_ops, NULL, NULL);
}

/* hwpt_id 0: -EINVAL unless the PASID is detached; else -EINVAL unless it
 * is attached to that HWPT's domain. */
static int pasid_check_hwpt(struct iommufd_ucmd *ucmd, struct selftest_obj *sobj,
			    sio_pasid_t pasid, uint32_t hwpt_id)
{
	struct sio_attach_handle *handle;
	struct sio_domain *attached = NULL;
	struct iommufd_object *obj;
	int rc;

	if (!sio_device_attach_handle_get(sobj->dev, pasid, 0, &handle))
		attached = handle->domain;
	if (!hwpt_id)
		return attached ? -EINVAL : 0;
	obj = iommufd_get_object(ucmd->ictx, hwpt_id, IOMMUFD_OBJ_ANY, &rc);
	if (!obj)
		return rc;
	if (obj->type != IOMMUFD_OBJ_HWPT_PAGING &&
	    obj->type != IOMMUFD_OBJ_HWPT_NESTED)
		rc = sio_err(-EINVAL,
			     "IOMMU_TEST_OP_PASID_*: object %u is not a HWPT", obj->id);
	else
		rc = attached == to_hwpt(obj)->domain ? 0 : -EINVAL;
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

int iommufd_test_pasid(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct selftest_obj *sobj;
	int rc;

	sobj = iommufd_get_selftest_obj(ucmd->ictx, cmd->id, &rc);
	if (!sobj)
		return rc;
	switch (cmd->op) {
	case IOMMU_TEST_OP_PASID_ATTACH:
		rc = iommufd_device_attach(sobj->idev, cmd->pasid_attach.pasid,
					   &cmd->pasid_attach.pt_id);
		if (rc)
			break;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		if (rc)
			iommufd_device_detach(sobj->idev,
					      cmd->pasid_attach.pasid);
		break;
	case IOMMU_TEST_OP_PASID_REPLACE:
		rc = iommufd_device_replace(sobj->idev, cmd->pasid_replace.pasid,
					    &cmd->pasid_replace.pt_id);
		if (!rc)
			rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		break;
	case IOMMU_TEST_OP_PASID_DETACH:
		iommufd_device_detach(sobj->idev, cmd->pasid_detach.pasid);
		rc = 0;
		break;
	case IOMMU_TEST_OP_PASID_CHECK_HWPT:
		rc = pasid_check_hwpt(ucmd, sobj, cmd->pasid_check.pasid,
				      cmd->pasid_check.hwpt_id);
		break;
	default:
		rc = sio_err(-EOPNOTSUPP,
			     "IOMMU_TEST_CMD: unknown PASID op %u", cmd->op);
		break;
	}
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

int iommufd_test_trigger_iopf(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct sio_page_request req = {
		.pasid = cmd->trigger_iopf.pasid,
		.grpid = cmd->trigger_iopf.grpid,
		.perm = cmd->trigger_iopf.perm,
		.flags = SIO_PRQ_LAST,
		.addr = cmd->trigger_iopf.addr,
	};
	struct iommufd_device *idev;
	struct iommufd_object *obj;
	int rc;

	obj = iommufd_get_object(ucmd->ictx, cmd->trigger_iopf.dev_id,
				 IOMMUFD_OBJ_DEVICE, &rc);
	if (!obj)
		return rc;
	idev = sio_container_of(obj, struct iommufd_device, obj);
	if (sio_device_iommu(idev->dev) != ucmd->ictx->host->mock) {
		rc = sio_err(-EINVAL,
			     "IOMMU_TEST_OP_TRIGGER_IOPF: not a mock device");
	} else {
		/* Answered at once when nothing takes it; not an error here. */
		sio_iopf_report(idev->dev, &req);
		rc = 0;
	}
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}
