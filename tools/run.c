/*
 * softiommu run [--shared] [--device SPEC]... [--fail-nth N] [--] PROG [ARGS...]: run an unmodified
 * program on an emulated machine: /dev/iommu, PCI functions behind VFIO
 * and the host namespace around them (docs/launcher.md,
 * docs/host-namespace.md).
 *
 * The launcher sets the run up: it finds the preload shim and puts it
 * first in LD_PRELOAD (keeping what was there, so other preloads still
 * apply after ours); it checks the device list and builds the machine's
 * namespace tree in a private directory, which every process of the run
 * shares (SOFTIOMMU_DEVICES, SOFTIOMMU_MACHINE_DIR); then it runs the
 * program as its child, waits for it, removes the tree and exits as the
 * program did.  The emulation happens in the shim, inside each process;
 * with --shared (or SOFTIOMMU_SHARED=1) the launcher keeps the machine and
 * serves every /dev/iommu context of the tree itself (src/shared/server.c,
 * docs/process-model.md).
 *
 * Where the shim is looked for, first hit wins:
 *  1. $SOFTIOMMU_PRELOAD, when set (and then it must exist);
 *  2. beside the softiommu binary (the build tree puts both at its root);
 *  3. the libdir of the tree the binary is installed in (bindir/../lib, as
 *     configured), so a moved install still works;
 *  4. the install prefix's libdir, fixed at build time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "softiommu/machine.h"
#include "shared/proto.h"
#include "shared/server.h"
#include "cli.h"

#define PRELOAD_NAME "libsoftiommu-preload.so"

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: softiommu run [--shared] [--device SPEC]... [--fail-nth N] [--] PROG [ARGS...]\n\n"
		"Runs PROG on an emulated machine (an LD_PRELOAD shim): /dev/iommu,\n"
		"PCI functions behind VFIO (/dev/vfio) and the sysfs and debugfs\n"
		"entries the kernel shows for them.\n\n"
		"  --device SPEC   the machine's PCI functions: items separated by ';',\n"
		"                  each MODEL[,bdf=SSSS:BB:DD.F][,force]; repeatable.\n"
		"                  Models: ioat.  Without bdf= a function takes the next\n"
		"                  free slot of segment 0100 (0100:00:01.0, ...); a BDF\n"
		"                  that a real device holds needs force; 'none' is no\n"
		"                  function.  Default: one ioat at 0100:00:01.0.\n"
		"  --shared        one /dev/iommu for the whole process tree, as the\n"
		"                  kernel's: the launcher holds every iommufd context\n"
		"                  and serves them, so fork children, exec'd programs\n"
		"                  and processes that receive the fd over a unix\n"
		"                  socket share them (also SOFTIOMMU_SHARED=1).\n"
		"                  Slower per ioctl; VFIO devices stay per process.\n"
		"  --fail-nth N    fault injection (sets SOFTIOMMU_FAIL_NTH=N): in each\n"
		"                  process of the run, before main, allocations and\n"
		"                  pages become sites (failslab and fail_page_alloc\n"
		"                  ignore-gfp-wait N) and the main thread's fail-nth\n"
		"                  countdown is N: the library's N-th site in that\n"
		"                  thread fails (ENOMEM, EFAULT).  0: none.  The files\n"
		"                  /proc/self/task/<tid>/fail-nth and\n"
		"                  /sys/kernel/debug/fail*/ work as the kernel's.\n\n"
		"Environment: SOFTIOMMU_SHARED=1, as --shared; SOFTIOMMU_DEVICES, the\n"
		"device list when no --device is given; SOFTIOMMU_FAIL_NTH=N, as\n"
		"--fail-nth; SOFTIOMMU_PRELOAD=PATH, the shim library.\n");
}

static bool readable_file(const char *path)
{
	return access(path, R_OK) == 0;
}

/* The shim in directory rel (relative to the softiommu binary's), into
 * buf; false if not there. */
static bool preload_near_exe(const char *rel, char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if ((size_t)snprintf(buf, size, "%s/%s%s%s", exe, rel, *rel ? "/" : "",
			     PRELOAD_NAME) >= size)
		return false;
	return readable_file(buf);
}

static int find_preload(char *buf, size_t size)
{
	const char *env = getenv("SOFTIOMMU_PRELOAD");

	if (env && *env) {
		if (!readable_file(env)) {
			fprintf(stderr, "softiommu run: SOFTIOMMU_PRELOAD=%s: %s\n",
				env, strerror(errno));
			return -1;
		}
		snprintf(buf, size, "%s", env);
		return 0;
	}
	if (preload_near_exe("", buf, size))
		return 0;
#ifdef SIO_PRELOAD_REL_DIR
	if (preload_near_exe(SIO_PRELOAD_REL_DIR, buf, size))
		return 0;
#endif
#ifdef SIO_PRELOAD_INSTALL_PATH
	if (readable_file(SIO_PRELOAD_INSTALL_PATH)) {
		snprintf(buf, size, "%s", SIO_PRELOAD_INSTALL_PATH);
		return 0;
	}
	fprintf(stderr,
		"softiommu run: cannot find " PRELOAD_NAME " beside the softiommu "
		"binary or at " SIO_PRELOAD_INSTALL_PATH
		"; set SOFTIOMMU_PRELOAD to its path\n");
#else
	fprintf(stderr,
		"softiommu run: cannot find " PRELOAD_NAME " beside the softiommu "
		"binary; set SOFTIOMMU_PRELOAD to its path\n");
#endif
	return -1;
}

/* LD_PRELOAD = shim, then whatever was there. */
static int set_ld_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	size_t len;
	char *val;
	int rc;

	/* ld.so splits LD_PRELOAD at spaces and colons. */
	if (strpbrk(shim, " :")) {
		fprintf(stderr, "softiommu run: %s: LD_PRELOAD cannot hold a path "
			"with a space or a colon\n", shim);
		return -1;
	}
	if (!old || !*old)
		return setenv("LD_PRELOAD", shim, 1);
	len = strlen(shim) + 1 + strlen(old) + 1;
	val = malloc(len);
	if (!val)
		return -1;
	snprintf(val, len, "%s:%s", shim, old);
	rc = setenv("LD_PRELOAD", val, 1);
	free(val);
	return rc;
}

/* The device list: --device options joined with ';' into the
 * environment, where the shim of every process reads it. */
static int set_devices(char **specs, int n)
{
	size_t len = 1;
	char *list;
	int rc;

	if (!n)
		return 0;
	for (int i = 0; i < n; i++)
		len += strlen(specs[i]) + 1;
	list = malloc(len);
	if (!list)
		return -1;
	list[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(list, ";");
		strcat(list, specs[i]);
	}
	rc = setenv("SOFTIOMMU_DEVICES", list, 1);
	free(list);
	return rc;
}

/* Check the device list and build the machine's namespace tree in a new
 * directory (*dir), which the processes of the run attach to.  With keep
 * the machine is kept in *keep (the shared mode's server hosts it). */
static int build_namespace(char *dir, size_t size, struct sio_machine **keep)
{
	struct sio_machine_config cfg = { .devices = getenv("SOFTIOMMU_DEVICES") };
	const char *tmp = getenv("TMPDIR");
	struct sio_machine *m;
	int rc;

	rc = sio_machine_create(&cfg, &m);
	if (rc) {
		fprintf(stderr, "softiommu run: %s\n", sio_last_error());
		return 2;
	}
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(dir, size, "%s/softiommu-run-XXXXXX", tmp);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "softiommu run: %s: %s\n", dir, strerror(errno));
		sio_machine_destroy(m);
		return 1;
	}
	rc = sio_machine_namespace_build(m, dir);
	if (keep && !rc)
		*keep = m;
	else
		sio_machine_destroy(m);
	if (rc) {
		fprintf(stderr, "softiommu run: %s\n", sio_last_error());
		sio_machine_namespace_remove(dir);
		rmdir(dir);
		return 1;
	}
	if (setenv("SOFTIOMMU_MACHINE_DIR", dir, 1)) {
		sio_machine_namespace_remove(dir);
		return 1;
	}
	return 0;
}

/* The file execvp would run for prog, into buf; false if none is found
 * (execvp then says why). */
static bool find_program(const char *prog, char *buf, size_t size)
{
	const char *path = getenv("PATH");

	if (strchr(prog, '/')) {
		snprintf(buf, size, "%s", prog);
		return access(buf, X_OK) == 0;
	}
	if (!path)
		path = "/bin:/usr/bin";
	while (*path) {
		const char *end = strchrnul(path, ':');
		int len = (int)(end - path);

		snprintf(buf, size, "%.*s%s%s", len, path, len ? "/" : "",
			 prog);
		if (access(buf, X_OK) == 0)
			return true;
		path = *end ? end + 1 : end;
	}
	return false;
}

/*
 * Why the shim cannot reach prog, or NULL: the dynamic loader is what
 * loads LD_PRELOAD, so a statically linked ELF (no PT_INTERP) never sees
 * it, and the loader ignores it in a secure-execution program (setuid to
 * another user, setgid to another group: AT_SECURE).  Scripts and files
 * that are not ELF are left to the kernel.
 */
static const char *unreachable(const char *prog)
{
	char path[PATH_MAX];
	Elf64_Ehdr eh;
	struct stat st;
	int fd;
	const char *why = NULL;

	if (!find_program(prog, path, sizeof(path)) || stat(path, &st))
		return NULL;
	if (((st.st_mode & S_ISUID) && st.st_uid != getuid()) ||
	    ((st.st_mode & S_ISGID) && st.st_gid != getgid()))
		return "it is setuid or setgid, and the dynamic loader ignores LD_PRELOAD for it";
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 &&
	    eh.e_phentsize == sizeof(Elf64_Phdr)) {
		why = "it is statically linked (no program interpreter), so LD_PRELOAD cannot reach it";
		for (unsigned int i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;

			if (pread(fd, &ph, sizeof(ph),
				  (off_t)(eh.e_phoff + i * sizeof(ph))) !=
			    (ssize_t)sizeof(ph))
				break;
			if (ph.p_type == PT_INTERP) {
				why = NULL;
				break;
			}
		}
	}
	close(fd);
	return why;
}

/* The child's pid, for the forwarding handler. */
static volatile pid_t run_child;

static void forward_signal(int sig)
{
	if (run_child > 0)
		kill(run_child, sig);
}

/* Run the program as a child and wait for it.  Terminal signals reach
 * the whole foreground group, so the launcher ignores SIGINT and SIGQUIT
 * while it waits (as system(3) does) and forwards the ones sent to it
 * alone; then it can always remove the tree. */
static int run_child_wait(char **argv, int *status)
{
	static const int forwarded[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 };
	struct sigaction ign = { .sa_handler = SIG_IGN }, fwd = { 0 };
	sigset_t all, old;
	pid_t pid;
	int err_pipe[2];
	int err = 0;

	if (pipe2(err_pipe, O_CLOEXEC))
		return -errno;
	sigemptyset(&all);
	sigaddset(&all, SIGINT);
	sigaddset(&all, SIGQUIT);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&all, forwarded[i]);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[0], argv);
		err = errno;
		if (write(err_pipe[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(err == ENOENT ? 127 : 126);
	}
	close(err_pipe[1]);
	if (pid < 0) {
		err = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(err_pipe[0]);
		return -err;
	}
	run_child = pid;
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	fwd.sa_handler = forward_signal;
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &fwd, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* The exec's errno if it failed (the pipe closes on success). */
	if (read(err_pipe[0], &err, sizeof(err)) != sizeof(err))
		err = 0;
	close(err_pipe[0]);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return err ? -err : 0;
}

/* Exit as the program did: its status, or its signal (raised again on
 * ourselves, without a core dump of the launcher). */
static int exit_as(int status)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		struct rlimit no_core = { 0, 0 };
		sigset_t set;

		setrlimit(RLIMIT_CORE, &no_core);
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		return 128 + sig;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* In shared mode the IOMMU's counts are the server's: they replace what
 * the run's processes wrote at their exit to $SOFTIOMMU_STATS_FILE
 * (src/preload/stats.c has the format). */
static void write_shared_stats(struct sio_machine *m)
{
	const char *path = getenv("SOFTIOMMU_STATS_FILE");
	struct sio_machine_stats st;
	FILE *f;

	if (!path || !*path || !m)
		return;
	/* The last closes of the run's files are served after its processes
	 * exit: their releases (unmaps) count too, as in the kernel. */
	sio_shared_server_drain(2000);
	sio_machine_stats(m, &st);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "maps=%llu unmaps=%llu translations=%llu faults=%llu\n",
		(unsigned long long)st.maps, (unsigned long long)st.unmaps,
		(unsigned long long)st.translations,
		(unsigned long long)st.faults);
	fclose(f);
}

int cmd_run(int argc, char **argv)
{
	char shim[PATH_MAX], dir[PATH_MAX], addr[108], pidbuf[24];
	char **specs = calloc((size_t)argc, sizeof(*specs));
	int nspecs = 0, first = 1, status = 0, rc;
	const char *why, *env_shared = getenv("SOFTIOMMU_SHARED");
	bool shared = env_shared && !strcmp(env_shared, "1");
	struct sio_machine *machine = NULL;

	if (!specs)
		return 1;
	while (first < argc) {
		const char *a = argv[first];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			run_usage(stdout);
			free(specs);
			return 0;
		}
		if (!strcmp(a, "--")) {
			first++;
			break;
		}
		if (!strcmp(a, "--shared")) {
			shared = true;
			first++;
			continue;
		}
		if (!strcmp(a, "--device")) {
			if (first + 1 >= argc) {
				fprintf(stderr, "softiommu run: --device needs a SPEC\n");
				free(specs);
				return 2;
			}
			specs[nspecs++] = argv[first + 1];
			first += 2;
			continue;
		}
		if (!strcmp(a, "--fail-nth") || !strncmp(a, "--fail-nth=", 11)) {
			const char *v = a[10] == '=' ? a + 11 :
					first + 1 < argc ? argv[first + 1] : NULL;
			char *end;

			errno = 0;
			if (!v || !*v || *v == '-' ||
			    (strtoul(v, &end, 10) > UINT_MAX) || errno || *end) {
				fprintf(stderr, "softiommu run: --fail-nth needs a number N (0 to %u)\n",
					UINT_MAX);
				free(specs);
				return 2;
			}
			if (setenv("SOFTIOMMU_FAIL_NTH", v, 1)) {
				free(specs);
				return 1;
			}
			first += a[10] == '=' ? 1 : 2;
			continue;
		}
		if (!strncmp(a, "--device=", 9)) {
			specs[nspecs++] = argv[first] + 9;
			first++;
			continue;
		}
		if (a[0] == '-' && a[1]) {
			fprintf(stderr, "softiommu run: unknown option '%s'\n", a);
			run_usage(stderr);
			free(specs);
			return 2;
		}
		break;
	}
	rc = set_devices(specs, nspecs);
	free(specs);
	if (rc) {
		fprintf(stderr, "softiommu run: cannot set SOFTIOMMU_DEVICES\n");
		return 1;
	}
	if (first >= argc) {
		run_usage(stderr);
		return 2;
	}
	why = unreachable(argv[first]);
	if (why) {
		fprintf(stderr, "softiommu run: %s: %s\n", argv[first], why);
		return 126;
	}
	if (find_preload(shim, sizeof(shim)))
		return 1;
	if (set_ld_preload(shim)) {
		fprintf(stderr, "softiommu run: cannot set LD_PRELOAD\n");
		return 1;
	}
	rc = build_namespace(dir, sizeof(dir), shared ? &machine : NULL);
	if (rc)
		return rc;
	/* A run inside a shared run is its own, unless it says --shared. */
	unsetenv(SIO_SHARED_ADDR_ENV);
	unsetenv(SIO_SHARED_PID_ENV);
	if (shared) {
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
		if (sio_shared_server_start(machine, addr, sizeof(addr)) ||
		    setenv(SIO_SHARED_ADDR_ENV, addr, 1) ||
		    setenv(SIO_SHARED_PID_ENV, pidbuf, 1)) {
			fprintf(stderr, "softiommu run: cannot start the shared server: %s\n",
				sio_last_error());
			sio_machine_namespace_remove(dir);
			return 1;
		}
	}
	rc = run_child_wait(argv + first, &status);
	if (shared)
		write_shared_stats(machine);
	sio_machine_namespace_remove(dir);
	/* As a shell reports it: 127 not found, 126 found but not run. */
	if (rc == -ENOENT) {
		fprintf(stderr, "softiommu run: %s: command not found\n", argv[first]);
		return 127;
	}
	if (rc) {
		fprintf(stderr, "softiommu run: %s: %s\n", argv[first], strerror(-rc));
		return 126;
	}
	return exit_as(status);
}
