/*
 * Helpers for the end-to-end scheduling tests (util_e2e.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control_proto.h"
#include "util_e2e.h"

#define START_TIMEOUT_MS 20000
#define CALL_TIMEOUT_MS  20000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void e2e_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

const char *e2e_bin_dir(void)
{
	static char path[1100];
	const char *bin = getenv("GPUVM_BIN");

	if (!bin || !*bin)
		return NULL;
	snprintf(path, sizeof(path), "%s/gpuvmd", bin);
	if (access(path, X_OK))
		return NULL;
	snprintf(path, sizeof(path), "%s/gpuvm-run", bin);
	return access(path, X_OK) ? NULL : bin;
}

/* Child: output to log, SIGTERM if the test dies; then exec. */
static pid_t spawn(char *const argv[], const char *log)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Wait at most timeout_ms; the wait status, or -1 (then it was killed). */
static int wait_pid(pid_t pid, int timeout_ms)
{
	double end = now_s() + timeout_ms / 1e3;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 || now_s() > end)
			break;
		e2e_sleep_ms(5);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void print_log(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		print_message("  | %s", line);
	fclose(f);
}

void e2e_start(struct e2e *e, const char *const *opts)
{
	const char *bin = e2e_bin_dir();
	const char *tmp = getenv("TMPDIR");
	char prog[1100], log[256], pidf[192], err[CTL_ERR_MAX];
	char *argv[32];
	int n = 0;
	double end;

	memset(e, 0, sizeof(*e));
	e->fd = -1;
	assert_non_null(bin);
	snprintf(e->bin, sizeof(e->bin), "%s", bin);
	snprintf(e->dir, sizeof(e->dir), "%s/gpuvm-e2e-XXXXXX", tmp && *tmp && strlen(tmp) < 64
		 ? tmp : "/tmp");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->sock, sizeof(e->sock), "%s/gpuvmd.sock", e->dir);
	snprintf(pidf, sizeof(pidf), "%s/gpuvmd.pid", e->dir);
	snprintf(log, sizeof(log), "%s/gpuvmd.log", e->dir);
	snprintf(prog, sizeof(prog), "%s/gpuvmd", bin);
	argv[n++] = prog;
	argv[n++] = (char *)"--foreground";
	argv[n++] = (char *)"--gpu";
	argv[n++] = (char *)"sim,vram=512M,audit=count";
	argv[n++] = (char *)"--socket";
	argv[n++] = e->sock;
	argv[n++] = (char *)"--pidfile";
	argv[n++] = pidf;
	argv[n++] = (char *)"--log-level";
	argv[n++] = (char *)"warn";
	for (; opts && *opts && n < 31; opts++)
		argv[n++] = (char *)*opts;
	argv[n] = NULL;
	e->daemon = spawn(argv, log);
	end = now_s() + START_TIMEOUT_MS / 1e3;
	while ((e->fd = ctl_client_connect(e->sock, err, sizeof(err))) < 0) {
		int status;

		if (waitpid(e->daemon, &status, WNOHANG) == e->daemon) {
			e->daemon = 0;
			print_log(log);
			fail_msg("gpuvmd exited at start-up (status 0x%x)", status);
		}
		if (now_s() > end)
			fail_msg("gpuvmd did not come up: %s", err);
		e2e_sleep_ms(20);
	}
}

struct json_object *e2e_ok(struct e2e *e, const char *fmt, ...)
{
	char req[1024], err[CTL_ERR_MAX], *reply = NULL;
	struct json_object *obj = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(req, sizeof(req) - 1, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && n < (int)sizeof(req) - 1);
	strcat(req, "\n");
	if (ctl_client_call(e->fd, req, &reply, CALL_TIMEOUT_MS, err, sizeof(err)))
		fail_msg("%s: %s", req, err);
	if (ctl_reply_parse(reply, strlen(reply), &obj, err, sizeof(err)))
		fail_msg("%s -> %s", req, err);
	free(reply);
	return obj;
}

void e2e_guest_busy(struct e2e *e, const char *name, unsigned ms)
{
	char prog[1100], dev[256], sms[16], sit[16], log[256];
	char *argv[] = { prog, (char *)"busy", (char *)"--ms", sms, (char *)"--iters", sit,
			 (char *)"--device", dev, NULL };

	assert_true(e->nguests < E2E_MAX_GUESTS);
	snprintf(prog, sizeof(prog), "%s/gpuvm-run", e->bin);
	snprintf(dev, sizeof(dev), "local:%s@%s%s", name, e->sock, CTL_GUEST_SOCKET_SUFFIX);
	snprintf(sms, sizeof(sms), "%u", ms);
	snprintf(sit, sizeof(sit), "%u", 120000 / ms);     /* two minutes alone on the GPU */
	snprintf(log, sizeof(log), "%s/%s.log", e->dir, name);
	e->guest[e->nguests++] = spawn(argv, log);
}

void e2e_gpu_ns(struct e2e *e, const char *const *names, unsigned n, uint64_t *gpu_ns,
		uint64_t *uptime_ns)
{
	struct json_object *r = e2e_ok(e, "{\"op\":\"stats\"}"), *g, *arr;

	assert_true(json_object_object_get_ex(r, "sched", &g));
	assert_true(json_object_object_get_ex(r, "vgpus", &arr));
	if (uptime_ns)
		*uptime_ns = ctl_json_u64(g, "uptime_ns");
	for (unsigned i = 0; i < n; i++) {
		gpu_ns[i] = UINT64_MAX;
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *v = json_object_array_get_idx(arr, k);

			if (!strcmp(ctl_json_str(v, "name"), names[i]))
				gpu_ns[i] = ctl_json_u64(v, "gpu_ns");
		}
		assert_true(gpu_ns[i] != UINT64_MAX);
	}
	json_object_put(r);
}

void e2e_wait_charged(struct e2e *e, const char *const *names, unsigned n, int timeout_ms)
{
	double end = now_s() + timeout_ms / 1e3;
	uint64_t ns[E2E_MAX_GUESTS];

	for (;;) {
		bool all = true;

		e2e_gpu_ns(e, names, n, ns, NULL);
		for (unsigned i = 0; i < n; i++)
			all &= ns[i] >= E2E_STARTED_NS;
		if (all)
			return;
		if (now_s() > end)
			fail_msg("not every guest got GPU time within %d ms", timeout_ms);
		e2e_sleep_ms(50);
	}
}

void e2e_stop(struct e2e *e)
{
	for (unsigned i = 0; i < e->nguests; i++) {
		if (e->guest[i] <= 0)
			continue;
		kill(e->guest[i], SIGTERM);
		wait_pid(e->guest[i], 10000);
		e->guest[i] = 0;
	}
	e->nguests = 0;
	if (e->daemon > 0) {
		int status;

		if (e->fd >= 0)
			json_object_put(e2e_ok(e, "{\"op\":\"shutdown\"}"));
		status = wait_pid(e->daemon, 20000);
		e->daemon = 0;
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			char log[256];

			snprintf(log, sizeof(log), "%s/gpuvmd.log", e->dir);
			print_log(log);
			fail_msg("gpuvmd did not shut down cleanly (status 0x%x)", status);
		}
	}
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
	if (e->dir[0]) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
		if (system(cmd) != 0)
			print_message("could not remove %s\n", e->dir);
		e->dir[0] = '\0';
	}
}
