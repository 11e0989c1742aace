/*
 * gpuvm-fairness: options and the run (see fairness.h).
 *
 *   gpuvm-fairness [--vms N] [--sched POLICY] [--weights 1,2,4,8] [--caps ...]
 *                  [--kernels 1,10] [--seconds S] [--mode full] [--out DIR]
 *
 * With no options it is the demo: 4 equal VMs under credit, two running
 * 1 ms busy kernels and two running 10 ms ones, measured for 8 seconds.
 *
 * Guests start at different times (a context's set-up is thousands of
 * trapped MMIO accesses, slow on a loaded machine), so each guest gets far
 * more work than the run needs, the clock starts once every VM has been
 * charged GPU time, and after --seconds the benchmark stops the guests.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control_proto.h"
#include "fairness.h"

#define DAEMON_START_MS 15000
#define MAX_SECONDS     3600
#define START_TIMEOUT_S 90          /* for every guest to get GPU time */
#define GUEST_MAX_ITERS 1000000     /* gpuvm-run's limit */
#define STARTED_NS      20000000ull /* GPU time that shows a VM runs its kernels */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: gpuvm-fairness [OPTION]...\n"
		"Measure how fairly gpuvmd's scheduler shares one (simulated) GPU between VMs.\n"
		"Starts a private gpuvmd on gpusim, creates the vGPUs, runs one guest process\n"
		"per VM, samples the scheduler's statistics and reports each VM's share of GPU\n"
		"time against its target, Jain's fairness index, GPU utilization and the\n"
		"scheduling overhead; writes a plot (gnuplot) and a markdown summary.\n"
		"\n"
		"  -n, --vms N            number of VMs, 1..%d (default 4)\n"
		"  -s, --sched POLICY     credit (default), band, fifo or direct\n"
		"  -w, --weights LIST     weights, e.g. 1,2,4,8 (default 256 each; a shorter\n"
		"                         list repeats)\n"
		"  -c, --caps LIST        caps in percent of the GPU, 0 = none (default none)\n"
		"  -k, --kernels LIST     per VM: busy kernel length in ms, or mmul\n"
		"                         (default 1,10: half 1 ms, half 10 ms kernels)\n"
		"  -t, --seconds S        how long to measure once every VM has started (default 8)\n"
		"      --tslice-ms N      the scheduler's time slice (default: gpuvmd's)\n"
		"  -m, --mode MODE        vGPU mode (default full)\n"
		"  -o, --out DIR          plot, summary and logs (default: ../fairness next to\n"
		"                         this program, i.e. build/fairness)\n"
		"      --window-ms N      Jain's index window (default 500)\n"
		"      --poll-ms N        statistics sampling period (default 100)\n"

		"  -q, --quiet            no progress lines while it runs\n"
		"  -h, --help             this help\n"
		"\n"
		"Goals (reported, not asserted): Jain's index >= 0.99 per 500 ms window, every\n"
		"VM within 2 points of its target share, GPU utilization >= 95%% while any VM\n"
		"has work, scheduling overhead < 2 us per submission.\n"
		"Programs: gpuvmd and gpuvm-run from $GPUVM_BIN, else ../bin next to this one.\n"
		"Exit status: 0 it ran (goals met or not), 1 it failed, 2 bad options,\n"
		"130 interrupted.\n", FX_MAX_VMS);
}

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "gpuvm-fairness: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'gpuvm-fairness --help'.\n");
	return FX_EXIT_USAGE;
}

/* A whole number in lo..hi. */
static bool parse_uint(const char *s, long lo, long hi, unsigned *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

/* Comma-separated items into items[]; their number, or -1 if more than max or empty ones. */
static int split_list(char *text, char **items, int max)
{
	int n = 0;

	for (char *p = text;; ) {
		char *comma = strchr(p, ',');

		if (n == max)
			return -1;
		if (comma)
			*comma = '\0';
		if (!*p)
			return -1;
		items[n++] = p;
		if (!comma)
			return n;
		p = comma + 1;
	}
}

struct lists {
	char *weights, *caps, *kernels;
};

enum { OPT_TSLICE = 0x100, OPT_WINDOW, OPT_POLL };

/* Per-VM lists, cycled over the VMs.  0 or FX_EXIT_USAGE. */
static int apply_lists(struct fx_config *cfg, struct lists *l)
{
	char *items[FX_MAX_VMS + 1];
	int n;

	for (unsigned i = 0; i < cfg->nvms; i++) {
		snprintf(cfg->vm[i].name, sizeof(cfg->vm[i].name), "vm%u", i + 1);
		cfg->vm[i].weight = 256;
		cfg->vm[i].kind = FX_BUSY;
		cfg->vm[i].ms = i % 2 ? 10 : 1;
	}
	if (l->weights) {
		if ((n = split_list(l->weights, items, (int)cfg->nvms)) < 0)
			return bad("--weights: at most one weight per VM, comma-separated (%s)", "1,2,4,8");
		for (unsigned i = 0; i < cfg->nvms; i++)
			if (!parse_uint(items[i % n], 1, 65535, &cfg->vm[i].weight))
				return bad("bad weight '%s' (1..65535)", items[i % n]);
	}
	if (l->caps) {
		if ((n = split_list(l->caps, items, (int)cfg->nvms)) < 0)
			return bad("--caps: at most one cap per VM, comma-separated (%s)", "0,50");
		for (unsigned i = 0; i < cfg->nvms; i++)
			if (!parse_uint(items[i % n], 0, 100, &cfg->vm[i].cap))
				return bad("bad cap '%s' (percent, 0..100; 0 = none)", items[i % n]);
	}
	if (l->kernels) {
		if ((n = split_list(l->kernels, items, (int)cfg->nvms)) < 0)
			return bad("--kernels: at most one per VM, comma-separated (%s)", "1,10,mmul");
		for (unsigned i = 0; i < cfg->nvms; i++) {
			if (!strcmp(items[i % n], "mmul"))
				cfg->vm[i].kind = FX_MMUL;
			else if (!parse_uint(items[i % n], 1, 1000, &cfg->vm[i].ms))
				return bad("bad kernel '%s' (busy milliseconds 1..1000, or mmul)",
					   items[i % n]);
		}
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct fx_config *cfg)
{
	static const struct option opts[] = {
		{ "vms", required_argument, NULL, 'n' },
		{ "sched", required_argument, NULL, 's' },
		{ "weights", required_argument, NULL, 'w' },
		{ "caps", required_argument, NULL, 'c' },
		{ "kernels", required_argument, NULL, 'k' },
		{ "seconds", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "out", required_argument, NULL, 'o' },
		{ "tslice-ms", required_argument, NULL, OPT_TSLICE },
		{ "window-ms", required_argument, NULL, OPT_WINDOW },
		{ "poll-ms", required_argument, NULL, OPT_POLL },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lists l = { NULL, NULL, NULL };
	char err[CTL_ERR_MAX], *end;
	int c;

	*cfg = (struct fx_config){ .nvms = 4, .sched = "credit", .mode = "full", .seconds = 8,
				   .poll_ms = 100, .window_ms = 500 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:s:w:c:k:t:m:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_uint(optarg, 1, FX_MAX_VMS, &cfg->nvms))
				return bad("bad --vms '%s' (1..16)", optarg);
			break;
		case 's':
			if (ctl_check_policy(optarg, err, sizeof(err)))
				return bad("%s", err);
			cfg->sched = optarg;
			break;
		case 'w': l.weights = optarg; break;
		case 'c': l.caps = optarg; break;
		case 'k': l.kernels = optarg; break;
		case 't':
			errno = 0;
			cfg->seconds = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(cfg->seconds >= 0.5) ||
			    cfg->seconds > MAX_SECONDS)
				return bad("bad --seconds '%s' (0.5..3600)", optarg);
			break;
		case 'm':
			if (strcmp(optarg, "full") && strcmp(optarg, "pv-naive") && strcmp(optarg, "pv"))
				return bad("unknown --mode '%s' (full, pv-naive or pv)", optarg);
			cfg->mode = optarg;
			break;
		case 'o':
			if (!*optarg)
				return bad("%s", "--out needs a directory");
			cfg->out_dir = optarg;
			break;
		case OPT_TSLICE:
			if (!parse_uint(optarg, 1, CTL_TSLICE_MS_MAX, &cfg->tslice_ms))
				return bad("bad --tslice-ms '%s' (1..1000)", optarg);
			break;
		case OPT_WINDOW:
			if (!parse_uint(optarg, 100, 60000, &cfg->window_ms))
				return bad("bad --window-ms '%s' (100..60000)", optarg);
			break;
		case OPT_POLL:
			if (!parse_uint(optarg, 10, 1000, &cfg->poll_ms))
				return bad("bad --poll-ms '%s' (10..1000)", optarg);
			break;
		case 'q': cfg->quiet = true; break;
		case 'h': return -1;
		case ':': return bad("option '%s' needs a value", argv[optind - 1]);
		default: return bad("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (cfg->window_ms < 2 * cfg->poll_ms)
		return bad("%s", "--window-ms must be at least two --poll-ms periods");
	return apply_lists(cfg, &l);
}

/* ---- The run -------------------------------------------------------------------- */

struct run {
	struct fx_config *cfg;
	char bin[1024], out[1200], tmp[128], sock[256];
	pid_t daemon;
	pid_t guest[FX_MAX_VMS];
	int guest_status[FX_MAX_VMS];
	bool guest_done[FX_MAX_VMS];
	bool guest_stopped[FX_MAX_VMS];     /* by the benchmark, at the end */
	struct fx_ctl ctl;
	struct fx_samples ss;
};

static int mkdir_p(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Where the programs are, and where the results go.  0 or -1 with a message. */
static int prepare_dirs(struct run *r)
{
	char path[1024 + 16];
	const char *tmp = getenv("TMPDIR");

	fx_bin_dir(r->bin, sizeof(r->bin));
	snprintf(path, sizeof(path), "%s/gpuvmd", r->bin);
	if (!r->bin[0] || access(path, X_OK)) {
		fprintf(stderr, "gpuvm-fairness: gpuvmd not found in '%s' (build with make, or set "
			"GPUVM_BIN to the directory of gpuvmd and gpuvm-run)\n", r->bin);
		return -1;
	}
	if (r->cfg->out_dir)
		snprintf(r->out, sizeof(r->out), "%s", r->cfg->out_dir);
	else
		snprintf(r->out, sizeof(r->out), "%s/../fairness", r->bin);
	if (mkdir_p(r->out)) {
		fprintf(stderr, "gpuvm-fairness: cannot create %s: %s\n", r->out, strerror(errno));
		return -1;
	}
	{
		char *real = realpath(r->out, NULL);

		if (real && strlen(real) < sizeof(r->out))
			memcpy(r->out, real, strlen(real) + 1);
		free(real);
	}
	snprintf(r->tmp, sizeof(r->tmp), "%s/gpuvm-fairness-XXXXXX", tmp && *tmp &&
		 strlen(tmp) < 64 ? tmp : "/tmp");
	if (!mkdtemp(r->tmp)) {
		fprintf(stderr, "gpuvm-fairness: mkdtemp %s: %s\n", r->tmp, strerror(errno));
		return -1;
	}
	snprintf(r->sock, sizeof(r->sock), "%s/gpuvmd.sock", r->tmp);
	return 0;
}

static int start_daemon(struct run *r)
{
	char prog[1024 + 16], gpu[64], pid[192], tslice[16], log[1200 + 16], err[CTL_ERR_MAX];
	char *argv[20];
	int n = 0;

	snprintf(prog, sizeof(prog), "%s/gpuvmd", r->bin);
	snprintf(gpu, sizeof(gpu), "sim,vram=%uM", 64 * (r->cfg->nvms + 2) < 256 ? 256
		 : 64 * (r->cfg->nvms + 2));
	snprintf(pid, sizeof(pid), "%s/gpuvmd.pid", r->tmp);
	snprintf(log, sizeof(log), "%s/gpuvmd.log", r->out);
	argv[n++] = prog;
	argv[n++] = (char *)"--foreground";
	argv[n++] = (char *)"--backend";
	argv[n++] = (char *)"local";
	argv[n++] = (char *)"--gpu";
	argv[n++] = gpu;
	argv[n++] = (char *)"--socket";
	argv[n++] = r->sock;
	argv[n++] = (char *)"--pidfile";
	argv[n++] = pid;
	argv[n++] = (char *)"--log-level";
	argv[n++] = (char *)"warn";
	argv[n++] = (char *)"--sched";
	argv[n++] = (char *)r->cfg->sched;
	if (r->cfg->tslice_ms) {
		snprintf(tslice, sizeof(tslice), "%u", r->cfg->tslice_ms);
		argv[n++] = (char *)"--sched-tslice-ms";
		argv[n++] = tslice;
	}
	argv[n] = NULL;
	r->daemon = fx_spawn(argv, log);
	if (r->daemon < 0)
		return -1;
	if (fx_ctl_connect(&r->ctl, r->sock, DAEMON_START_MS, r->daemon, err, sizeof(err)) ||
	    fx_ctl_create(&r->ctl, r->cfg, err, sizeof(err))) {
		if (!fx_signal) {
			fprintf(stderr, "gpuvm-fairness: %s; gpuvmd's log (%s):\n", err, log);
			fx_print_log_tail(stderr, log, 10);
		}
		return -1;
	}
	return 0;
}

/*
 * Launches for a busy guest: more than it can run before the benchmark
 * stops it, even alone on the GPU and starting last, so that it never runs
 * dry (between two runs a guest has nothing queued while it waits, reads
 * back and reloads, and loses its turn).
 */
static unsigned busy_iters(const struct fx_config *cfg, unsigned i)
{
	double n = (cfg->seconds + START_TIMEOUT_S + 10) * 1000 / cfg->vm[i].ms;

	return n > GUEST_MAX_ITERS ? GUEST_MAX_ITERS : (unsigned)n + 1;
}

static int start_guests(struct run *r)
{
	const struct fx_config *cfg = r->cfg;

	for (unsigned i = 0; i < cfg->nvms; i++) {
		const struct fx_vm_cfg *vm = &cfg->vm[i];
		char prog[1024 + 16], dev[320], ms[16], iters[16], log[1200 + 32];
		char *argv[16];
		int n = 0;

		snprintf(prog, sizeof(prog), "%s/gpuvm-run", r->bin);
		snprintf(dev, sizeof(dev), "local:%s@%s%s", vm->name, r->sock, CTL_GUEST_SOCKET_SUFFIX);
		snprintf(log, sizeof(log), "%s/%s.log", r->out, vm->name);
		argv[n++] = prog;
		if (vm->kind == FX_MMUL) {
			snprintf(iters, sizeof(iters), "%u", GUEST_MAX_ITERS);
			argv[n++] = (char *)"mmul";
			argv[n++] = (char *)"--size";
			argv[n++] = (char *)"256";
		} else {
			snprintf(ms, sizeof(ms), "%u", vm->ms);
			snprintf(iters, sizeof(iters), "%u", busy_iters(cfg, i));
			argv[n++] = (char *)"busy";
			argv[n++] = (char *)"--ms";
			argv[n++] = ms;
		}
		argv[n++] = (char *)"--iters";
		argv[n++] = iters;
		argv[n++] = (char *)"--device";
		argv[n++] = dev;
		argv[n] = NULL;
		r->guest[i] = fx_spawn(argv, log);
		if (r->guest[i] < 0)
			return -1;
	}
	return 0;
}

/* A guest that exits before the benchmark stops it has failed.  true if one did. */
static bool guest_exited(struct run *r)
{
	bool any = false;

	for (unsigned i = 0; i < r->cfg->nvms; i++) {
		if (!r->guest_done[i] && r->guest[i] > 0)
			r->guest_done[i] = fx_reap(r->guest[i], &r->guest_status[i]);
		any |= r->guest_done[i];
	}
	return any;
}

/* One line a second: each VM's share of the GPU over the last second. */
static void progress(struct run *r, size_t *last, double measured)
{
	const struct fx_sample *a = &r->ss.s[*last], *b = &r->ss.s[r->ss.n - 1];
	double dt = b->t - a->t;

	if (r->cfg->quiet || dt < 0.999)
		return;
	printf("  %5.1f s  GPU busy %5.1f%% |", b->t - r->ss.s[0].t,
	       (double)(b->busy_ns - a->busy_ns) / 1e9 / dt * 100);
	for (unsigned i = 0; i < r->cfg->nvms; i++)
		printf(" %s %5.1f%%", r->cfg->vm[i].name,
		       (double)(b->gpu_ns[i] - a->gpu_ns[i]) / 1e9 / dt * 100);
	if (measured < 0)
		printf("  (waiting for every VM to start)");
	else if (!r->ss.from)
		printf("  (warm-up)");
	printf("\n");
	fflush(stdout);
	*last = r->ss.n - 1;
}

/* Has every VM run real work yet (not just its set-up)? */
static bool all_started(const struct run *r, const struct fx_sample *s)
{
	for (unsigned i = 0; i < r->cfg->nvms; i++)
		if (s->gpu_ns[i] < STARTED_NS)
			return false;
	return true;
}

/*
 * Sample until every VM has run STARTED_NS of GPU time, then for a warm-up
 * window (a newcomer's credit needs a few periods to settle) and --seconds
 * more; the measurement starts after the warm-up (ss.from).  0 when it is
 * complete, -1 on a failure or a signal.
 */
static int sample_loop(struct run *r)
{
	double deadline = fx_now() + START_TIMEOUT_S, started = -1;
	double warmup = r->cfg->window_ms / 1e3;
	size_t last = 0;
	char err[CTL_ERR_MAX];

	while (!fx_signal) {
		struct fx_sample s;

		if (guest_exited(r))
			return -1;      /* guests_ok() says which */
		if (fx_ctl_sample(&r->ctl, r->cfg, &s, err, sizeof(err))) {
			if (!fx_signal)
				fprintf(stderr, "gpuvm-fairness: stats: %s\n", err);
			return -1;
		}
		if (fx_samples_add(&r->ss, &s)) {
			fprintf(stderr, "gpuvm-fairness: out of memory\n");
			return -1;
		}
		if (started < 0 && all_started(r, &s))
			started = s.t;
		if (started >= 0 && !r->ss.from && s.t - started >= warmup)
			r->ss.from = r->ss.n - 1;
		progress(r, &last, started < 0 ? -1 : s.t - started);
		if (r->ss.from && s.t - r->ss.s[r->ss.from].t >= r->cfg->seconds)
			return 0;
		if (started < 0 && fx_now() > deadline) {
			fprintf(stderr, "gpuvm-fairness: not every VM got GPU time within %d s\n",
				START_TIMEOUT_S);
			return -1;
		}
		fx_sleep_ms(r->cfg->poll_ms);
	}
	return -1;
}

/* Guests are stopped by the benchmark; one that exited on its own failed.  Says which. */
static bool guests_ok(struct run *r)
{
	bool ok = true;

	for (unsigned i = 0; i < r->cfg->nvms; i++) {
		int st = r->guest_status[i];
		char log[1200 + 32];

		if (!r->guest_done[i] || r->guest_stopped[i])
			continue;
		ok = false;
		snprintf(log, sizeof(log), "%s/%s.log", r->out, r->cfg->vm[i].name);
		fprintf(stderr, "gpuvm-fairness: the guest of %s exited early (%s %d); its log (%s):\n",
			r->cfg->vm[i].name, WIFEXITED(st) ? "exit status" : "signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), log);
		fx_print_log_tail(stderr, log, 6);
	}
	return ok;
}

/* Guests first, then gpuvmd (asked nicely, then signalled), then the temp dir. */
static void cleanup(struct run *r)
{
	int status;

	for (unsigned i = 0; i < r->cfg->nvms; i++)
		if (r->guest[i] > 0 && !r->guest_done[i]) {
			fx_stop(r->guest[i], 5000);
			r->guest_done[i] = r->guest_stopped[i] = true;
		}
	if (r->daemon > 0) {
		if (fx_ctl_shutdown(&r->ctl) || !fx_wait(r->daemon, 10000, &status))
			fx_stop(r->daemon, 5000);
		r->daemon = 0;
	}
	fx_ctl_close(&r->ctl);
	if (r->tmp[0]) {
		char path[256];

		snprintf(path, sizeof(path), "%s/gpuvmd.sock.guest", r->tmp);
		unlink(path);
		snprintf(path, sizeof(path), "%s/gpuvmd.pid", r->tmp);
		unlink(path);
		unlink(r->sock);
		rmdir(r->tmp);
	}
}

static void print_header(const struct run *r)
{
	const struct fx_config *cfg = r->cfg;

	printf("gpuvm-fairness: %u VMs on gpusim, policy %s, vGPU mode %s, measured for %.1f s "
	       "once every VM has started\n", cfg->nvms, cfg->sched, cfg->mode, cfg->seconds);
	for (unsigned i = 0; i < cfg->nvms; i++) {
		printf("  %s: ", cfg->vm[i].name);
		if (cfg->vm[i].kind == FX_MMUL)
			printf("mmul 256x256, back to back");
		else
			printf("busy %u ms kernels, back to back", cfg->vm[i].ms);
		printf(", weight %u", cfg->vm[i].weight);
		if (cfg->vm[i].cap)
			printf(", cap %u%%", cfg->vm[i].cap);
		printf("\n");
	}
	printf("  programs from %s; results in %s\n", r->bin, r->out);
	fflush(stdout);
}

static void write_results(struct run *r, const struct fx_result *res)
{
	char path[1200 + 32], plot[64], why[256];
	bool have_plot;

	have_plot = !fx_report_plot(r->out, r->cfg, &r->ss, res, plot, sizeof(plot), why,
				    sizeof(why));
	snprintf(path, sizeof(path), "%s/summary.md", r->out);
	if (fx_report_markdown(path, r->cfg, res, have_plot ? plot : NULL))
		fprintf(stderr, "gpuvm-fairness: cannot write %s: %s\n", path, strerror(errno));
	else
		printf("\nSummary: %s\n", path);
	if (have_plot)
		printf("Plot:    %s/%s (data %s/fairness.dat)\n", r->out, plot, r->out);
	else
		printf("No plot: %s; the data is in %s/fairness.dat\n", why, r->out);
}

int main(int argc, char **argv)
{
	static struct run r;
	struct fx_config cfg;
	struct fx_result res;
	int rc = parse_options(argc, argv, &cfg);
	bool ok;

	if (rc < 0) {
		usage(stdout);
		return 0;
	}
	if (rc)
		return rc;
	r.cfg = &cfg;
	r.ctl.fd = -1;
	fx_signals_install();
	if (prepare_dirs(&r))
		return FX_EXIT_FAIL;
	print_header(&r);
	ok = !start_daemon(&r) && !start_guests(&r) && !sample_loop(&r);
	cleanup(&r);
	if (fx_signal) {
		fprintf(stderr, "gpuvm-fairness: interrupted (signal %d); everything stopped\n",
			(int)fx_signal);
		free(r.ss.s);
		return FX_EXIT_INTERRUPTED;
	}
	ok = guests_ok(&r) && ok;
	fx_analyse(&cfg, &r.ss, &res);
	fx_report_console(stdout, &cfg, &res);
	write_results(&r, &res);
	free(r.ss.s);
	if (!ok)
		fprintf(stderr, "gpuvm-fairness: the run failed (logs in %s)\n", r.out);
	return ok ? 0 : FX_EXIT_FAIL;
}
