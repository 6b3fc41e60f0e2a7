/*
 * The softiommu command: one file per subcommand, dispatched from main.c.
 */
#ifndef SIO_TOOLS_CLI_H
#define SIO_TOOLS_CLI_H

int cmd_demo(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
/* demo_migrate.c: `softiommu demo --migrate` */
int demo_migrate(void);

/* demo_sva.c: `softiommu demo --sva` */
int demo_sva(void);

#endif
