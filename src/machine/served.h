/*
 * Which files of the machine's tree show the state that the shared mode's
 * server holds (docs/process-model.md): /dev/iommu, the VFIO nodes, the
 * debugfs page-table dumps and the sysfs config files.  Under
 * `softiommu run --shared` their opens go to the server; the other files
 * (the fault-injection knobs, which belong to each process) open here.
 */
#ifndef SIO_MACHINE_SERVED_H
#define SIO_MACHINE_SERVED_H

#include <stdbool.h>

struct sio_machine;

/* Whether node id of m is one of those. */
bool sio_machine_node_served(const struct sio_machine *m, unsigned int id);

#endif
