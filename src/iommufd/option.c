/*
 * IOMMU_OPTION (the kernel's iommufd_option in main.c and ioas.c): the
 * context-wide RLIMIT_MODE (how pins are charged: per user, or per process
 * as VFIO does) and the per-IOAS HUGE_PAGES.  The value read or set is
 * written back on success (only val64, as the kernel does).
 */
#include <linux/capability.h>

#include "iommufd/iommufd_private.h"

int iommufd_option_rlimit_mode(struct iommu_option *cmd,
			       struct sio_iommufd *ictx)
{
	int rc = 0;

	if (cmd->object_id)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_OPTION: RLIMIT_MODE takes object_id 0");
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = ictx->account_mode == SIO_UMEM_ACCT_MM;
		return 0;
	}
	if (cmd->op != IOMMU_OPTION_OP_SET)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_OPTION: unknown op %u", cmd->op);
	if (!iommufd_capable(CAP_SYS_RESOURCE))
		return sio_err(-EPERM,
			       "IOMMU_OPTION: RLIMIT_MODE needs CAP_SYS_RESOURCE");
	pthread_mutex_lock(&ictx->obj_lock);
	/* Only before the first object: pins keep the mode they got. */
	if (iommufd_ctx_has_objects(ictx))
		rc = sio_err(-EBUSY,
			     "IOMMU_OPTION: RLIMIT_MODE only before the first object");
	else if (cmd->val64 == 0)
		ictx->account_mode = SIO_UMEM_ACCT_USER;
	else if (cmd->val64 == 1)
		ictx->account_mode = SIO_UMEM_ACCT_MM;
	else
		rc = sio_err(-EINVAL,
			     "IOMMU_OPTION: RLIMIT_MODE takes 0 or 1, not %llu", (unsigned long long)cmd->val64);
	pthread_mutex_unlock(&ictx->obj_lock);
	return rc;
}

int iommufd_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	int rc;

	if (cmd->__reserved)
		return sio_err(-EOPNOTSUPP, "IOMMU_OPTION: reserved field set");
	switch (cmd->option_id) {
	case IOMMU_OPTION_RLIMIT_MODE:
		rc = iommufd_option_rlimit_mode(cmd, ucmd->ictx);
		break;
	case IOMMU_OPTION_HUGE_PAGES:
		rc = iommufd_ioas_option(ucmd);
		break;
	default:
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_OPTION: unknown option %u", cmd->option_id);
	}
	if (rc)
		return rc;
	if (sio_umem_write(ucmd->ictx->host->owner,
			   ucmd->ubuffer + offsetof(struct iommu_option, val64),
			   &cmd->val64, sizeof(cmd->val64)))
		return sio_err(-EFAULT, "IOMMU_OPTION: val64 not writable");
	return 0;
}
