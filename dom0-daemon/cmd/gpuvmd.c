/*
 * gpuvmd: option parsing and start-up.  The daemon itself is daemon.c.
 *
 * Start-up order matters: options are checked before anything is created
 * (bad ones exit 2); when going to the background we fork *before* the GPU
 * exists, because gpusim and the backends run threads that a later fork
 * would lose, and the original process waits on a pipe until the daemon
 * reports that its sockets are ready, so that "gpuvmd && gpuvmctl list"
 * never races.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control_proto.h"
#include "daemon.h"
#include "log.h"

#define EXIT_USAGE 2
#define IN_DAEMON (-1)
#define WANTS_HELP (-2)

/* Long options without a short form. */
enum { OPT_SCHED = 0x100, OPT_SCHED_PERIOD, OPT_SCHED_TICK, OPT_SCHED_TSLICE };

struct options {
	struct gpuvmd_config cfg;
	bool foreground;
	int log_level;
	char *owned[3];         /* strings made here, freed at exit */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gpuvmd [OPTION]...\n"
		"Own one GPU and give virtual GPUs to VMs, managed with gpuvmctl.\n"
		"\n"
		"  -g, --gpu SPEC         the GPU: sim[,vram=SIZE][,timeslice=US][,audit=MODE]\n"
		"                         (default: sim, a gpusim with 1G of VRAM); audit=count\n"
		"                         makes gpusim count GPU accesses outside their VM's\n"
		"                         memory (gpuvmctl check fails on any), audit=enforce\n"
		"                         also refuses them\n"
		"  -b, --backend NAME     how guests reach their vGPU: local (default), xen,\n"
		"                         or none (control socket only)\n"
		"  -s, --socket PATH      control socket (default: $%s or %s);\n"
		"                         the local backend's guests connect to PATH%s\n"
		"  -f, --foreground       do not daemonize; log to stderr\n"
		"  -l, --log-level LEVEL  error, warn, info (default) or debug\n"
		"  -p, --pidfile PATH     pid and lock file, so that only one gpuvmd owns the GPU\n"
		"                         (default: the socket path with .sock replaced by .pid)\n"
		"  -G, --group NAME       members of group NAME may use the control socket\n"
		"                         (besides root and gpuvmd's own user)\n"
		"      --sched POLICY     GPU scheduling policy: credit (default), band, fifo\n"
		"                         or direct; gpuvmctl sched changes it at run time\n"
		"      --sched-period-ms N   credit/band accounting period (default 30)\n"
		"      --sched-tick-ms N     how often the accounting runs (default 10)\n"
		"      --sched-tslice-ms N   how long one VM keeps the GPU while others wait\n"
		"                            (default 10)\n"
		"  -h, --help             show this help\n"
		"\n"
		"SIGTERM or SIGINT shut gpuvmd down cleanly: every vGPU is destroyed and the\n"
		"socket removed.  Exit status: 0 ok, 1 failure, 2 bad options.\n",
		CTL_SOCKET_ENV, CTL_DEFAULT_SOCKET, CTL_GUEST_SOCKET_SUFFIX);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "gpuvmd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'gpuvmd --help' for more information.\n");
	return EXIT_USAGE;
}

/* /run/gpuvmd.sock -> /run/gpuvmd.pid; anything else gets ".pid" appended. */
static char *default_pidfile(const char *sock)
{
	size_t len = strlen(sock);
	char *p = malloc(len + 5);

	if (!p)
		return NULL;
	if (len > 5 && !strcmp(sock + len - 5, ".sock"))
		len -= 5;
	memcpy(p, sock, len);
	strcpy(p + len, ".pid");
	return p;
}

/* Relative paths would break once the daemon leaves the current directory. */
static char *absolute_path(const char *path)
{
	char *cwd, *abs;

	if (path[0] == '/')
		return strdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	if (asprintf(&abs, "%s/%s", cwd, path) < 0)
		abs = NULL;
	free(cwd);
	return abs;
}

static const struct option long_opts[] = {
	{ "gpu", required_argument, NULL, 'g' },
	{ "backend", required_argument, NULL, 'b' },
	{ "socket", required_argument, NULL, 's' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "pidfile", required_argument, NULL, 'p' },
	{ "group", required_argument, NULL, 'G' },
	{ "help", no_argument, NULL, 'h' },
	{ "sched", required_argument, NULL, OPT_SCHED },
	{ "sched-period-ms", required_argument, NULL, OPT_SCHED_PERIOD },
	{ "sched-tick-ms", required_argument, NULL, OPT_SCHED_TICK },
	{ "sched-tslice-ms", required_argument, NULL, OPT_SCHED_TSLICE },
	{ NULL, 0, NULL, 0 },
};

/* --sched-*-ms VALUE: 1..max milliseconds into *ns.  0 or EXIT_USAGE. */
static int sched_ms_option(const char *opt, const char *arg, long long max, uint64_t *ns)
{
	char err[CTL_ERR_MAX], *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (end == arg || *end || errno)
		return usage_error("invalid number of milliseconds '%s'", arg);
	if (ctl_check_ms(opt, v, max, err, sizeof(err)))
		return usage_error("%s", err);
	*ns = (uint64_t)v * 1000000ull;
	return 0;
}

/* The scheduling options.  0 or EXIT_USAGE. */
static int apply_sched_option(struct options *o, int c, const char *arg)
{
	struct sched_params *p = &o->cfg.sched_params;
	char err[CTL_ERR_MAX];

	switch (c) {
	case OPT_SCHED:
		if (ctl_check_policy(arg, err, sizeof(err)))
			return usage_error("%s", err);
		o->cfg.sched = arg;
		return 0;
	case OPT_SCHED_PERIOD:
		return sched_ms_option("--sched-period-ms", arg, CTL_PERIOD_MS_MAX, &p->period_ns);
	case OPT_SCHED_TICK:
		return sched_ms_option("--sched-tick-ms", arg, CTL_TICK_MS_MAX, &p->tick_ns);
	default:
		return sched_ms_option("--sched-tslice-ms", arg, CTL_TSLICE_MS_MAX, &p->tslice_ns);
	}
}

/* One option.  0, WANTS_HELP or EXIT_USAGE. */
static int apply_option(struct options *o, int c, const char *arg)
{
	switch (c) {
	case 'g': o->cfg.gpu_spec = arg; return 0;
	case 'b': o->cfg.backend = arg; return 0;
	case 's': o->cfg.socket_path = arg; return 0;
	case 'f': o->foreground = true; return 0;
	case 'p': o->cfg.pidfile = arg; return 0;
	case 'G': o->cfg.group = arg; return 0;
	case 'h': return WANTS_HELP;
	case OPT_SCHED: case OPT_SCHED_PERIOD: case OPT_SCHED_TICK: case OPT_SCHED_TSLICE:
		return apply_sched_option(o, c, arg);
	case 'l':
		o->log_level = gpuvm_log_level_parse(arg);
		if (o->log_level < 0)
			return usage_error("unknown log level '%s' (expected error, warn, info or debug)", arg);
		return 0;
	default:
		return usage_error("%s", "bad option");
	}
}

/* The tick must not exceed the period, defaults included.  0 or EXIT_USAGE. */
static int check_sched_options(const struct sched_params *p)
{
	uint64_t period = p->period_ns ? p->period_ns : SCHED_DEFAULT_PERIOD_NS;
	uint64_t tick = p->tick_ns ? p->tick_ns : SCHED_DEFAULT_TICK_NS;
	char msg[96];

	if (tick <= period)
		return 0;
	snprintf(msg, sizeof(msg), "%llu ms > %llu ms", (unsigned long long)(tick / 1000000),
		 (unsigned long long)(period / 1000000));
	return usage_error("--sched-tick-ms must not exceed --sched-period-ms (%s)", msg);
}

/* Values that can be judged without creating anything.  0 or EXIT_USAGE. */
static int check_options(struct options *o)
{
	const struct trap_backend_ops *ops;
	char err[CTL_ERR_MAX];

	if (!*o->cfg.socket_path)
		return usage_error("%s", "--socket needs a path");
	if (daemon_backend_lookup(o->cfg.backend, &ops, err, sizeof(err)) ||
	    daemon_check_gpu_spec(o->cfg.gpu_spec, err, sizeof(err)))
		return usage_error("%s", err);
	if (o->cfg.pidfile && !*o->cfg.pidfile)
		return usage_error("%s", "--pidfile needs a path");
	if (o->cfg.group && !*o->cfg.group)
		return usage_error("%s", "--group needs a name");
	return check_sched_options(&o->cfg.sched_params);
}

/* The option getopt just refused: "-x" inside a cluster, or "--long". */
static const char *unknown_option(char **argv)
{
	static char shortopt[3] = "-?";

	if (!optopt)
		return argv[optind - 1];
	shortopt[1] = (char)optopt;
	return shortopt;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	int c, r;

	*o = (struct options){ .log_level = GPUVM_LOG_INFO };
	o->cfg.gpu_spec = "sim";
	o->cfg.backend = "local";
	o->cfg.socket_path = ctl_default_socket();
	optind = 0;             /* full re-initialisation: main may run twice in tests */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":g:b:s:fl:p:G:h", long_opts, NULL)) != -1) {
		if (c == '?')
			return usage_error("unknown option '%s'", unknown_option(argv));
		if (c == ':')
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		r = apply_option(o, c, optarg);
		if (r)
			return r;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return check_options(o);
}

/* Make the paths the daemon keeps absolute, and fill in the default pidfile. */
static int finish_paths(struct options *o)
{
	if (!o->cfg.pidfile)
		o->cfg.pidfile = o->owned[0] = default_pidfile(o->cfg.socket_path);
	if (!o->cfg.pidfile)
		return -1;
	if (o->foreground)
		return 0;
	o->cfg.socket_path = o->owned[1] = absolute_path(o->cfg.socket_path);
	o->cfg.pidfile = o->owned[2] = absolute_path(o->cfg.pidfile);
	return o->cfg.socket_path && o->cfg.pidfile ? 0 : -1;
}

/* ---- Daemonizing ------------------------------------------------------------------ */

/* The original process: wait for the daemon's "ready" byte.  The exit code. */
static int wait_ready(int fd, pid_t child)
{
	char c = 0;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	waitpid(child, NULL, 0);        /* the intermediate child, which exits at once */
	return n == 1 && c == 'R' ? 0 : 1;
}

/*
 * Double fork with setsid() in between, so the daemon is in a session of
 * its own and can never reacquire a terminal.  Returns IN_DAEMON in the
 * daemon, with the write end of the readiness pipe in *notify_fd; in the
 * original process, the exit code to return.
 */
static int daemonize(int *notify_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("gpuvmd: pipe");
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("gpuvmd: fork");
		close(p[0]);
		close(p[1]);
		return 1;
	}
	if (pid > 0) {
		close(p[1]);
		return wait_ready(p[0], pid);
	}
	close(p[0]);
	if (setsid() < 0 || (pid = fork()) < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	*notify_fd = p[1];
	return IN_DAEMON;
}

/* Detach from the terminal, then tell the original process to exit 0. */
static void daemon_ready(int notify_fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	gpuvm_log_setup(NULL, GPUVM_LOG_SYSLOG, -1);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	if (chdir("/") < 0) {
		/* Paths are absolute by now; staying where we are is harmless. */
	}
	if (write(notify_fd, "R", 1) != 1)
		gpuvm_log(GPUVM_LOG_WARN, "could not report readiness to the starting process");
	close(notify_fd);
}

/* ---- Serving ------------------------------------------------------------------------- */

static void log_ready(struct gpuvmd *d, const struct options *o)
{
	const char *backend = o->cfg.backend;

	gpuvm_log(GPUVM_LOG_INFO, "ready: GPU %s (%llu MiB VRAM), control socket %s, "
		  "backend %s%s%s, pid %ld", o->cfg.gpu_spec,
		  (unsigned long long)(daemon_gpu_vram(d) >> 20), daemon_socket_path(d), backend,
		  strcmp(backend, "none") ? " on " : "",
		  strcmp(backend, "none") ? daemon_guest_socket_path(d) : "", (long)getpid());
}

/*
 * SIGTERM/SIGINT are blocked while the daemon is created, so the threads it
 * starts inherit the block and never take them, and a signal that comes
 * early is handled, not fatal, once the handlers are in place.
 */
static int serve(struct options *o, int notify_fd)
{
	sigset_t stop_sigs, old;
	char err[CTL_ERR_MAX];
	struct gpuvmd *d;
	int r;

	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, &old);
	d = daemon_create(&o->cfg, err, sizeof(err));
	if (!d || daemon_handle_signals(d)) {
		gpuvm_log(GPUVM_LOG_ERR, "%s", d ? "cannot install signal handlers" : err);
		daemon_destroy(d);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (notify_fd >= 0)
		daemon_ready(notify_fd);
	log_ready(d, o);
	r = daemon_run(d);
	daemon_destroy(d);
	gpuvm_log(GPUVM_LOG_INFO, "stopped");
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct options o;
	int notify_fd = -1;
	int r = parse_options(argc, argv, &o);

	if (r == WANTS_HELP) {
		usage(stdout);
		return 0;
	}
	if (r)
		return r;
	gpuvm_log_setup("gpuvmd", GPUVM_LOG_STAMPED, 2);
	gpuvm_log_set_level(o.log_level);
	if (finish_paths(&o)) {
		fprintf(stderr, "gpuvmd: out of memory\n");
		r = 1;
		goto out;
	}
	if (!o.foreground) {
		r = daemonize(&notify_fd);
		if (r != IN_DAEMON)
			goto out;
	}
	r = serve(&o, notify_fd);
out:
	for (size_t i = 0; i < sizeof(o.owned) / sizeof(o.owned[0]); i++)
		free(o.owned[i]);
	return r;
}
