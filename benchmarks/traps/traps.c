/*
 * Trap figures of full virtualisation on the local backend.
 *
 * For each workload (memcpy, vadd, madd, mmul at modest sizes) this program
 * starts the real gpuvmd (from the build's bin directory, or $GPUVM_BIN),
 * creates a fresh vGPU, and runs the workload in a guest process on
 * "local:"; the guest reads the vGPU's counters (the control protocol's
 * `info`, as `gpuvmctl info` shows them) right after its context is up and
 * right after the workload, so the difference is what the workload itself
 * cost in traps.  The same workload then runs in a guest process on
 * "native" (gpusim in the process, no traps) for the time comparison.
 * Each figure is the median of --reps runs (3 by default).
 *
 * Prints markdown tables: traps per workload, the whole guest's traps
 * (attach to detach), and wall times local vs native; then the median
 * round trip of one trapped register read (PMC.BOOT0) measured in the
 * guest (build/bench/mmio has the detailed MMIO benchmark).
 *
 * Usage: traps [--reps N] [--quick]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "gpuvm_guest.h"
#include "gpuvm_raw.h"
#include "gpuvm_workloads.h"
#include "nvc0/regs.h"

#define VGPU           "bench"
#define VGPU_VRAM      "256M"
#define NATIVE_SPEC    "native:vram=256M"
#define WAIT_MS        120000
#define RTT_READS      4000
#define MAX_REPS       15

/* The counters of `gpuvmctl info`. */
enum counter { C_READS, C_WRITES, C_DENIED, C_RESHADOWS, C_FLUSHES, C_SUBMISSIONS, C_REJECTED, C_COUNT };
static const char *const counter_key[C_COUNT] = {
	"mmio_reads", "mmio_writes", "denied", "reshadows", "tlb_flushes", "submissions", "pte_rejected",
};

struct sample {
	uint64_t c[C_COUNT];
};

/* What a guest process reports back through its pipe. */
struct guest_result {
	int err;                    /* GPUVM_OK, or why the run failed */
	double open_s, run_s, close_s, total_s;
	double workload_s;          /* the workload's own measured part */
	struct sample before, after; /* local only: around the workload */
	double rtt_ns;              /* local only: median BOOT0 round trip */
	char detail[256];
};

struct workload_case {
	const char *name;
	uint64_t size, quick_size;
	const char *size_text, *quick_text;
};

static const struct workload_case cases[] = {
	{ "memcpy", 16u << 20, 2u << 20, "16 MiB", "2 MiB" },
	{ "vadd", 1u << 20, 1u << 16, "1 Mi elements", "64 Ki elements" },
	{ "madd", 512, 128, "512 x 512", "128 x 128" },
	{ "mmul", 256, 64, "256 x 256", "64 x 64" },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static char dir[128], sock[192], guest_sock[200], log_path[192];
static pid_t daemon_pid = -1;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void cleanup(void)
{
	if (daemon_pid > 0) {
		kill(-daemon_pid, SIGKILL);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = -1;
	}
	if (*dir) {
		char path[256];

		snprintf(path, sizeof(path), "%s/gpuvmd.log", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/gpuvmd.pid", dir);
		unlink(path);
		unlink(sock);
		unlink(guest_sock);
		rmdir(dir);
		*dir = '\0';
	}
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "traps: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (*log_path)
		fprintf(stderr, "(gpuvmd's log: %s, removed on exit)\n", log_path);
	cleanup();
	exit(1);
}

/* The build's bin directory: $GPUVM_BIN, else ../bin next to this program. */
static void bin_path(const char *prog, char *out, size_t len)
{
	const char *env = getenv("GPUVM_BIN");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(out, len, "%s/%s", env, prog);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		die("cannot find myself; set GPUVM_BIN");
	self[n] = '\0';
	for (int i = 0; i < 2; i++) {
		slash = strrchr(self, '/');
		if (!slash)
			die("cannot find the bin directory; set GPUVM_BIN");
		*slash = '\0';
	}
	if (snprintf(out, len, "%s/bin/%s", self, prog) >= (int)len)
		die("path too long");
}

/* ---- control protocol --------------------------------------------------------------- */

/* One request, one parsed reply; NULL if the daemon cannot be reached. */
static struct json_object *ctl(const char *fmt, ...)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[512], buf[1 << 16];
	size_t len = 0;
	va_list ap;
	int fd;

	va_start(ap, fmt);
	vsnprintf(req, sizeof(req) - 1, fmt, ap);
	va_end(ap);
	strcat(req, "\n");
	if (strlen(sock) >= sizeof(sa.sun_path))
		return NULL;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (len < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, WAIT_MS) <= 0)
			break;
		r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	buf[len] = '\0';
	return memchr(buf, '\n', len) ? json_tokener_parse(buf) : NULL;
}

static bool reply_ok(struct json_object *r)
{
	struct json_object *ok;

	return r && json_object_object_get_ex(r, "ok", &ok) && json_object_get_boolean(ok);
}

static void ctl_must(const char *what, struct json_object *r)
{
	if (!reply_ok(r))
		die("%s failed: %s", what, r ? json_object_to_json_string(r) : "no reply");
	json_object_put(r);
}

static bool info(struct sample *s)
{
	struct json_object *r = ctl("{\"op\":\"info\",\"name\":\"" VGPU "\"}"), *v, *x;
	bool ok = reply_ok(r) && json_object_object_get_ex(r, "vgpu", &v);

	for (unsigned i = 0; ok && i < C_COUNT; i++) {
		ok = json_object_object_get_ex(v, counter_key[i], &x);
		if (ok)
			s->c[i] = (uint64_t)json_object_get_int64(x);
	}
	json_object_put(r);
	return ok;
}

static bool attached(void)
{
	struct json_object *r = ctl("{\"op\":\"info\",\"name\":\"" VGPU "\"}"), *v, *a;
	bool yes = !reply_ok(r) || !json_object_object_get_ex(r, "vgpu", &v) ||
		   !json_object_object_get_ex(v, "attached", &a) || json_object_get_boolean(a);

	json_object_put(r);
	return yes;
}

/* ---- gpuvmd ------------------------------------------------------------------------------ */

static void start_daemon(void)
{
	const char *tmp = getenv("TMPDIR");
	char gpuvmd[PATH_MAX];
	pid_t parent = getpid();
	double deadline;

	snprintf(dir, sizeof(dir), "%s/gpuvm-traps-XXXXXX", tmp && *tmp && strlen(tmp) < 60 ? tmp : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp: %s", strerror(errno));
	snprintf(sock, sizeof(sock), "%s/gpuvmd.sock", dir);
	snprintf(guest_sock, sizeof(guest_sock), "%s.guest", sock);
	snprintf(log_path, sizeof(log_path), "%s/gpuvmd.log", dir);
	bin_path("gpuvmd", gpuvmd, sizeof(gpuvmd));
	fflush(NULL);
	daemon_pid = fork();
	if (daemon_pid < 0)
		die("fork: %s", strerror(errno));
	if (daemon_pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent || fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(gpuvmd, "gpuvmd", "--gpu", "sim,vram=1G", "--backend", "local", "--socket", sock,
		      "--foreground", "--log-level", "warn", (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", gpuvmd, strerror(errno));
		_exit(127);
	}
	setpgid(daemon_pid, daemon_pid);
	deadline = now_s() + 30;
	for (;;) {
		struct json_object *r = ctl("{\"op\":\"version\"}");
		int status;

		if (reply_ok(r)) {
			json_object_put(r);
			return;
		}
		json_object_put(r);
		if (waitpid(daemon_pid, &status, WNOHANG) == daemon_pid) {
			daemon_pid = -1;
			die("gpuvmd (%s) exited during start-up", gpuvmd);
		}
		if (now_s() > deadline)
			die("gpuvmd did not answer within 30 s");
		poll(NULL, 0, 5);   /* not listening yet */
	}
}

static void stop_daemon(void)
{
	struct json_object *r = ctl("{\"op\":\"shutdown\"}");
	int status = -1;
	double deadline = now_s() + 30;

	json_object_put(r);
	while (daemon_pid > 0 && now_s() < deadline) {
		if (waitpid(daemon_pid, &status, WNOHANG) == daemon_pid) {
			daemon_pid = -1;
			break;
		}
		poll(NULL, 0, 5);
	}
	if (daemon_pid > 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		fprintf(stderr, "traps: gpuvmd did not shut down cleanly\n");
	cleanup();
}

/* ---- guests ---------------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double rtt_median(struct gpuvm_device *dev)
{
	static double t[RTT_READS];

	for (unsigned i = 0; i < RTT_READS; i++) {
		double t0 = now_s();

		if (gpuvm_raw_rd32(dev, NV_PMC_BOOT0) != NV_PMC_BOOT0_GF100)
			return -1;
		t[i] = (now_s() - t0) * 1e9;
	}
	qsort(t, RTT_READS, sizeof(t[0]), cmp_double);
	return t[RTT_READS / 2];
}

static void guest_main(int fd, const char *spec, const struct gpuvm_workload *wl, uint64_t size, bool local)
{
	struct gpuvm_ctx_options o = { .timeout_ms = WAIT_MS };
	struct gpuvm_workload_params prm = { .size = size };
	struct gpuvm_workload_result wr;
	struct guest_result r;
	struct gpuvm_ctx *ctx = NULL;
	double t0, t1, t2, t3;

	memset(&r, 0, sizeof(r));
	memset(&wr, 0, sizeof(wr));
	t0 = now_s();
	r.err = gpuvm_ctx_open(spec, &o, &ctx);
	t1 = now_s();
	if (!r.err && local && !info(&r.before))
		r.err = GPUVM_ERR_DEVICE;
	if (!r.err)
		r.err = wl->run(ctx, &prm, &wr);
	t2 = now_s();
	if (!r.err && local && !info(&r.after))
		r.err = GPUVM_ERR_DEVICE;
	if (!r.err && local)
		r.rtt_ns = rtt_median(gpuvm_ctx_device(ctx));
	if (r.err)
		snprintf(r.detail, sizeof(r.detail), "%s: %s", gpuvm_strerror(r.err), gpuvm_last_error());
	else
		snprintf(r.detail, sizeof(r.detail), "%s", wr.detail);
	t3 = now_s();
	if (ctx)
		gpuvm_ctx_destroy(ctx);
	r.close_s = now_s() - t3;
	r.open_s = t1 - t0;
	r.run_s = t2 - t1;
	r.workload_s = wr.seconds;
	r.total_s = now_s() - t0 - (t3 - t2);   /* the measurement in between is not the guest's */
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(3);
	_exit(0);
}

/* Run one guest process; its result.  Dies if it could not run. */
static void run_guest(const char *spec, const struct gpuvm_workload *wl, uint64_t size, bool local,
		      struct guest_result *out)
{
	pid_t parent = getpid(), pid;
	int p[2], status = 0;
	ssize_t n = 0;
	struct pollfd pf;

	if (pipe(p))
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		guest_main(p[1], spec, wl, size, local);
	}
	close(p[1]);
	pf = (struct pollfd){ .fd = p[0], .events = POLLIN };
	if (poll(&pf, 1, WAIT_MS) > 0)
		n = read(p[0], out, sizeof(*out));
	close(p[0]);
	if (n != (ssize_t)sizeof(*out))
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (n != (ssize_t)sizeof(*out))
		die("%s guest for %s gave no result", spec, wl->name);
	if (out->err)
		die("%s on %s failed: %s", wl->name, spec, out->detail);
}

/* ---- the measurements ------------------------------------------------------------------------ */

struct row {
	const struct workload_case *wc;
	double run_local, run_native, total_local, total_native, wl_local, wl_native, rtt;
	struct sample during, life;
	bool isolated;
};

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t median_u64(uint64_t *v, unsigned n)
{
	double d[MAX_REPS];

	for (unsigned i = 0; i < n; i++)
		d[i] = (double)v[i];
	return (uint64_t)(median(d, n) + 0.5);
}

static bool check_isolated(void)
{
	struct json_object *r = ctl("{\"op\":\"check\"}"), *iso;
	bool ok = reply_ok(r) && json_object_object_get_ex(r, "isolated", &iso) && json_object_get_boolean(iso);

	json_object_put(r);
	return ok;
}

static void measure(const struct workload_case *wc, bool quick, unsigned reps, struct row *row)
{
	const struct gpuvm_workload *wl = gpuvm_workload_find(wc->name);
	uint64_t size = quick ? wc->quick_size : wc->size;
	double rl[MAX_REPS], rn[MAX_REPS], tl[MAX_REPS], tn[MAX_REPS], wll[MAX_REPS], wln[MAX_REPS], rtt[MAX_REPS];
	uint64_t during[C_COUNT][MAX_REPS], life[C_COUNT][MAX_REPS];
	char spec[256];

	if (!wl)
		die("no workload %s", wc->name);
	snprintf(spec, sizeof(spec), "local:%s@%s", VGPU, guest_sock);
	row->wc = wc;
	row->isolated = true;
	for (unsigned k = 0; k < reps; k++) {
		struct guest_result g, nat;
		struct sample end;
		double deadline;

		/* A fresh vGPU each time, so its counters start at zero. */
		ctl_must("create", ctl("{\"op\":\"create\",\"name\":\"" VGPU "\",\"vram\":\"" VGPU_VRAM "\"}"));
		run_guest(spec, wl, size, true, &g);
		/* The guest has gone; its detach (and the teardown's traps) land shortly. */
		deadline = now_s() + WAIT_MS / 1000.0;
		while (attached() && now_s() < deadline)
			poll(NULL, 0, 2);
		if (!info(&end))
			die("info after the guest failed");
		row->isolated &= check_isolated();
		ctl_must("destroy", ctl("{\"op\":\"destroy\",\"name\":\"" VGPU "\"}"));
		run_guest(NATIVE_SPEC, wl, size, false, &nat);
		for (unsigned i = 0; i < C_COUNT; i++) {
			during[i][k] = g.after.c[i] - g.before.c[i];
			/* Shadow counters live with the shadows, which go at detach:
			 * for those the whole-guest figure is the last one seen. */
			life[i][k] = i == C_RESHADOWS || i == C_REJECTED ? g.after.c[i] : end.c[i];
		}
		life[C_READS][k] -= RTT_READS;  /* the round-trip measurement is not the guest's */
		rl[k] = g.run_s;
		tl[k] = g.total_s;
		wll[k] = g.workload_s;
		rtt[k] = g.rtt_ns;
		rn[k] = nat.run_s;
		tn[k] = nat.total_s;
		wln[k] = nat.workload_s;
	}
	row->run_local = median(rl, reps);
	row->run_native = median(rn, reps);
	row->total_local = median(tl, reps);
	row->total_native = median(tn, reps);
	row->wl_local = median(wll, reps);
	row->wl_native = median(wln, reps);
	row->rtt = median(rtt, reps);
	for (unsigned i = 0; i < C_COUNT; i++) {
		row->during.c[i] = median_u64(during[i], reps);
		row->life.c[i] = median_u64(life[i], reps);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: traps [--reps N] [--quick]\n"
		"Trap counts and wall time of each workload in a guest on gpuvmd's local backend,\n"
		"against the same workload on native gpusim.  Starts its own gpuvmd ($GPUVM_BIN,\n"
		"else the bin directory of this build).  --reps: runs per figure (median, default 3,\n"
		"at most %d); --quick: small sizes, one run.\n", MAX_REPS);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reps", required_argument, NULL, 'r' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct row rows[NCASES];
	unsigned reps = 3;
	bool quick = false, all_isolated = true;
	double rtts[NCASES];
	int c;

	while ((c = getopt_long(argc, argv, "r:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			reps = (unsigned)atoi(optarg);
			if (reps < 1 || reps > MAX_REPS) {
				usage(stderr);
				return 2;
			}
			break;
		case 'q':
			quick = true;
			reps = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	start_daemon();
	for (unsigned i = 0; i < NCASES; i++) {
		measure(&cases[i], quick, reps, &rows[i]);
		all_isolated &= rows[i].isolated;
		rtts[i] = rows[i].rtt;
	}
	stop_daemon();

	printf("Traps of full virtualisation on the local backend (gpuvmd, gpusim with 1 GiB;\n"
	       "one %s vGPU per run; median of %u run%s).\n\n", VGPU_VRAM, reps, reps > 1 ? "s" : "");
	printf("Workload only: `info` after the workload minus `info` before it, the guest's context up.\n\n");
	printf("| workload | size | MMIO reads | MMIO writes | denied | reshadows | TLB flushes | submissions | traps per ms |\n");
	printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (unsigned i = 0; i < NCASES; i++) {
		const struct row *r = &rows[i];
		uint64_t traps = r->during.c[C_READS] + r->during.c[C_WRITES];

		printf("| %s | %s | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %.1f |\n",
		       r->wc->name, quick ? r->wc->quick_text : r->wc->size_text, r->during.c[C_READS],
		       r->during.c[C_WRITES], r->during.c[C_DENIED], r->during.c[C_RESHADOWS],
		       r->during.c[C_FLUSHES], r->during.c[C_SUBMISSIONS],
		       r->run_local > 0 ? traps / (r->run_local * 1e3) : 0.0);
	}
	printf("\nWhole guest, attach to detach (context set-up and teardown included;\n"
	       "reshadows as last seen before the teardown, since they go with the shadows).\n\n");
	printf("| workload | MMIO reads | MMIO writes | denied | reshadows | TLB flushes | submissions |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|\n");
	for (unsigned i = 0; i < NCASES; i++) {
		const struct row *r = &rows[i];

		printf("| %s | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " |\n",
		       r->wc->name, r->life.c[C_READS], r->life.c[C_WRITES], r->life.c[C_DENIED],
		       r->life.c[C_RESHADOWS], r->life.c[C_FLUSHES], r->life.c[C_SUBMISSIONS]);
	}
	printf("\nWall time, local (trapped) vs native (gpusim in the guest process), ms.\n"
	       "\"workload\" is the workload's own measured part, \"run\" the whole run call,\n"
	       "\"guest\" context open + run + destroy.\n\n");
	printf("| workload | workload local | workload native | run local | run native | run local/native | guest local | guest native | guest local/native |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (unsigned i = 0; i < NCASES; i++) {
		const struct row *r = &rows[i];

		printf("| %s | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |\n", r->wc->name,
		       r->wl_local * 1e3, r->wl_native * 1e3, r->run_local * 1e3, r->run_native * 1e3,
		       r->run_native > 0 ? r->run_local / r->run_native : 0.0, r->total_local * 1e3,
		       r->total_native * 1e3, r->total_native > 0 ? r->total_local / r->total_native : 0.0);
	}
	printf("\nMedian round trip of one trapped BAR0 read (PMC.BOOT0) from the guest: %.0f ns\n"
	       "(median over the runs of each run's median of %d reads; build/bench/mmio has the details).\n",
	       median(rtts, NCASES), RTT_READS);
	printf("Isolation checker after every guest: %s\n", all_isolated ? "clean" : "FAILED");
	return all_isolated ? 0 : 1;
}
