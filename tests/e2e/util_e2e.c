/*
 * End-to-end test helpers (util_e2e.h): gpuvmd, gpuvmctl and guests as
 * child processes, the control protocol, and line pipes to forked guests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util_e2e.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_left(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* A short pause between looks at a state only the daemon can report. */
static void nap_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f) {
		for (;;) {
			if (cap - len < 4096) {
				char *nb = realloc(buf, cap + 65536);

				if (!nb)
					break;
				buf = nb;
				cap += 65536;
			}
			n = fread(buf + len, 1, cap - len - 1, f);
			if (!n)
				break;
			len += n;
		}
		fclose(f);
	}
	if (!buf)
		return strdup("");
	buf[len] = '\0';
	return buf;
}

const char *e2e_bin(const char *prog, char *buf, size_t len)
{
	const char *bin = getenv("GPUVM_BIN");
	char self[PATH_MAX];
	ssize_t n;

	if (bin && *bin) {
		snprintf(buf, len, "%s/%s", bin, prog);
		return buf;
	}
	/* Run by hand: build[/san]/tests/e2e/test_x -> build[/san]/bin. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		fail_msg("GPUVM_BIN is not set (make check sets it)");
	self[n] = '\0';
	for (int i = 0; i < 3; i++) {
		char *slash = strrchr(self, '/');

		if (!slash)
			fail_msg("GPUVM_BIN is not set and %s is not in a build tree", self);
		*slash = '\0';
	}
	snprintf(buf, len, "%s/bin/%s", self, prog);
	return buf;
}

/* ---- child processes ----------------------------------------------------------------- */

/*
 * Fork a child in process group pgid (0: a new group led by the child) that
 * dies with the test, and run fn in it.  fn returns the exit status (exec'ing
 * children return only on failure).
 */
static pid_t spawn(pid_t pgid, int (*fn)(void *arg), void *arg)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		setpgid(0, pgid);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		int code = fn(arg);

		fflush(NULL);
		_exit(code);
	}
	/* Both sides set the group, so it is in place whichever runs first. */
	setpgid(pid, pgid ? pgid : pid);
	return pid;
}

/* Wait at most timeout_ms for pid; true and *status once it has exited. */
static bool wait_pid(pid_t pid, int pidfd, int timeout_ms, int *status)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 && errno != EINTR) {
			*status = -1;
			return true;
		}
		if (!ms_left(deadline))
			return false;
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };

			poll(&p, 1, ms_left(deadline));
		} else {
			nap_ms(2);      /* no pidfd (kernel < 5.3): look again shortly */
		}
	}
}

/*
 * Like wait_pid, but leaves the child a zombie: while it is one its pid
 * (and so its process group id) cannot be reused, so the group can still be
 * killed safely.  true once it has exited.
 */
static bool wait_exit(pid_t pid, int pidfd, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		siginfo_t si = { .si_pid = 0 };

		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			return true;
		if (!ms_left(deadline))
			return false;
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };

			poll(&p, 1, ms_left(deadline));
		} else {
			nap_ms(2);
		}
	}
}

static void describe_status(int status, char *buf, size_t len)
{
	if (status == -1)
		snprintf(buf, len, "not a child");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status 0x%x", status);
}

struct exec_args {
	const char *path;
	char *const *argv;
	const char *out;            /* stdout and stderr (appended), or NULL */
	const char *err;            /* a separate stderr, or NULL */
};

static int exec_child(void *arg)
{
	const struct exec_args *a = arg;
	int null = open("/dev/null", O_RDONLY);

	if (null >= 0)
		dup2(null, 0);
	if (a->out) {
		int fd = open(a->out, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd < 0)
			return 127;
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (a->err) {
		int fd = open(a->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0)
			return 127;
		dup2(fd, 2);
	}
	execv(a->path, a->argv);
	fprintf(stderr, "exec %s: %s\n", a->path, strerror(errno));
	return 127;
}

/* ---- control protocol ------------------------------------------------------------------ */

/* One request and its reply line, parsed; NULL (and why) on any failure. */
static struct json_object *ctl_request(const char *sock, const char *req, int timeout_ms,
				       char *why, size_t whylen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t deadline = now_ms() + timeout_ms;
	char *line = NULL;
	size_t len = 0, cap = 0;
	struct json_object *reply = NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, whylen, "connect %s: %s", sock, strerror(errno));
		goto out;
	}
	if (asprintf(&line, "%s\n", req) < 0) {
		line = NULL;
		goto out;
	}
	for (size_t off = 0, n = strlen(line); off < n;) {
		ssize_t w = send(fd, line + off, n - off, MSG_NOSIGNAL);

		if (w < 0) {
			snprintf(why, whylen, "send: %s", strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	free(line);
	line = NULL;
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (cap - len < 4096) {
			char *nl = realloc(line, cap + 65536);

			if (!nl)
				goto out;
			line = nl;
			cap += 65536;
		}
		if (poll(&pf, 1, ms_left(deadline)) <= 0) {
			snprintf(why, whylen, "no reply to %s in %d ms", req, timeout_ms);
			goto out;
		}
		r = read(fd, line + len, cap - len - 1);
		if (r <= 0) {
			snprintf(why, whylen, "connection closed before the reply to %s", req);
			goto out;
		}
		len += (size_t)r;
		line[len] = '\0';
		if (strchr(line, '\n'))
			break;
	}
	*strchr(line, '\n') = '\0';
	reply = json_tokener_parse(line);
	if (!reply || !json_object_is_type(reply, json_type_object) ||
	    !json_object_object_get_ex(reply, "ok", NULL)) {
		snprintf(why, whylen, "bad reply to %s: %s", req, line);
		json_object_put(reply);
		reply = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	free(line);
	return reply;
}

static struct json_object *vcall(struct e2e_daemon *d, bool must_ok, const char *fmt, va_list ap)
{
	char *req, why[512];
	struct json_object *reply, *ok;

	if (vasprintf(&req, fmt, ap) < 0)
		fail_msg("out of memory");
	reply = ctl_request(d->sock, req, E2E_WAIT_MS, why, sizeof(why));
	if (!reply) {
		e2e_dump_log(d);
		free(req);
		fail_msg("control: %s", why);
	}
	if (must_ok && (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok))) {
		print_error("request %s failed: %s\n", req, json_object_to_json_string(reply));
		free(req);
		json_object_put(reply);
		fail();
	}
	free(req);
	return reply;
}

struct json_object *e2e_call(struct e2e_daemon *d, const char *fmt, ...)
{
	struct json_object *r;
	va_list ap;

	va_start(ap, fmt);
	r = vcall(d, false, fmt, ap);
	va_end(ap);
	return r;
}

struct json_object *e2e_ok(struct e2e_daemon *d, const char *fmt, ...)
{
	struct json_object *r;
	va_list ap;

	va_start(ap, fmt);
	r = vcall(d, true, fmt, ap);
	va_end(ap);
	return r;
}

int e2e_ctl(struct e2e_daemon *d, char **out, char **err, ...)
{
	char path[PATH_MAX], outp[256], errp[256];
	char *argv[24];
	unsigned n = 0;
	struct exec_args a;
	int status, pidfd;
	pid_t pid;
	va_list ap;
	const char *s;

	argv[n++] = (char *)"gpuvmctl";
	argv[n++] = (char *)"--socket";
	argv[n++] = d->sock;
	va_start(ap, err);
	while ((s = va_arg(ap, const char *)) && n < 23)
		argv[n++] = (char *)s;
	va_end(ap);
	argv[n] = NULL;
	snprintf(outp, sizeof(outp), "%s/ctl.out", d->dir);
	snprintf(errp, sizeof(errp), "%s/ctl.err", d->dir);
	unlink(outp);
	a = (struct exec_args){ e2e_bin("gpuvmctl", path, sizeof(path)), argv, outp, errp };
	pid = spawn(d->pid, exec_child, &a);
	pidfd = pidfd_open(pid, 0);
	if (!wait_pid(pid, pidfd, E2E_WAIT_MS, &status)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("gpuvmctl %s did not finish in %d ms", argv[3], E2E_WAIT_MS);
	}
	if (pidfd >= 0)
		close(pidfd);
	if (out)
		*out = slurp(outp);
	if (err)
		*err = slurp(errp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void e2e_create(struct e2e_daemon *d, const char *name, unsigned vram_mib, unsigned channels)
{
	char vram[32], chans[16], *out, *err;
	int rc;

	snprintf(vram, sizeof(vram), "%uM", vram_mib);
	snprintf(chans, sizeof(chans), "%u", channels);
	rc = e2e_ctl(d, &out, &err, "create", name, "--vram", vram, "--channels", chans, NULL);
	if (rc != 0)
		fail_msg("gpuvmctl create %s: exit %d: %s%s", name, rc, out, err);
	free(out);
	free(err);
}

static uint64_t obj_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("reply has no '%s': %s", key, json_object_to_json_string(o));
	return (uint64_t)json_object_get_int64(v);
}

void e2e_info(struct e2e_daemon *d, const char *name, struct e2e_info *out)
{
	struct json_object *r = e2e_ok(d, "{\"op\":\"info\",\"name\":\"%s\"}", name), *v, *a;

	if (!json_object_object_get_ex(r, "vgpu", &v) || !json_object_object_get_ex(v, "attached", &a))
		fail_msg("bad info reply: %s", json_object_to_json_string(r));
	*out = (struct e2e_info){
		.attached = json_object_get_boolean(a),
		.channels = (unsigned)obj_u64(v, "channels"),
		.channels_bound = (unsigned)obj_u64(v, "channels_bound"),
		.vram_base = obj_u64(v, "vram_base"),
		.vram_size = obj_u64(v, "vram_size"),
		.mmio_reads = obj_u64(v, "mmio_reads"),
		.mmio_writes = obj_u64(v, "mmio_writes"),
		.denied = obj_u64(v, "denied"),
		.pte_rejected = obj_u64(v, "pte_rejected"),
		.reshadows = obj_u64(v, "reshadows"),
		.tlb_flushes = obj_u64(v, "tlb_flushes"),
		.submissions = obj_u64(v, "submissions"),
		.faults = obj_u64(v, "faults"),
	};
	json_object_put(r);
}

void e2e_wait_info(struct e2e_daemon *d, const char *name,
		   bool (*pred)(const struct e2e_info *in, void *arg), void *arg, const char *what)
{
	int64_t deadline = now_ms() + E2E_WAIT_MS;
	struct e2e_info in;

	for (;;) {
		e2e_info(d, name, &in);
		if (pred(&in, arg))
			return;
		if (!ms_left(deadline))
			break;
		nap_ms(5);
	}
	e2e_dump_log(d);
	fail_msg("vGPU %s: %s did not happen within %d ms", name, what, E2E_WAIT_MS);
}

static bool is_detached(const struct e2e_info *in, void *arg)
{
	(void)arg;
	return !in->attached && in->channels_bound == 0;
}

void e2e_wait_detached(struct e2e_daemon *d, const char *name)
{
	e2e_wait_info(d, name, is_detached, NULL, "detaching its guest");
}

bool e2e_assert_isolated(struct e2e_daemon *d)
{
	struct json_object *r, *iso, *checks, *audit, *viol;
	char *out, *err;
	int rc = e2e_ctl(d, &out, &err, "check", NULL);
	bool have_audit = false;

	if (rc != 0) {
		e2e_dump_log(d);
		fail_msg("gpuvmctl check: exit %d\n%s%s", rc, out, err);
	}
	free(out);
	free(err);
	r = e2e_ok(d, "{\"op\":\"check\"}");
	if (!json_object_object_get_ex(r, "isolated", &iso) || !json_object_get_boolean(iso) ||
	    !json_object_object_get_ex(r, "checks", &checks))
		fail_msg("check: %s", json_object_to_json_string(r));
	for (size_t i = 0; i < json_object_array_length(checks); i++) {
		struct json_object *e = json_object_array_get_idx(checks, i), *ok;

		if (!json_object_object_get_ex(e, "isolated", &ok) || !json_object_get_boolean(ok))
			fail_msg("check entry not isolated: %s", json_object_to_json_string(e));
	}
	/* gpusim's audit oracle, when the daemon reports it (see the e2e README note). */
	if (json_object_object_get_ex(r, "audit", &audit)) {
		have_audit = true;
		if (!json_object_object_get_ex(audit, "violations", &viol) || json_object_get_int64(viol) != 0)
			fail_msg("gpusim audit: %s", json_object_to_json_string(audit));
	}
	json_object_put(r);
	return have_audit;
}

/* ---- the daemon ------------------------------------------------------------------------ */

void e2e_dump_log(struct e2e_daemon *d)
{
	char *log = slurp(d->log), *start = log + strlen(log);
	int lines = 0;

	while (start > log && lines <= 60)
		if (*--start == '\n')
			lines++;
	print_error("---- gpuvmd log (%s), last lines ----\n%s\n----\n", d->log, start);
	free(log);
}

static void rm_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char path[512];

	if (!dp)
		return;
	while ((e = readdir(dp))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(dp);
	rmdir(dir);
}

/* Start-up failed: nothing may outlive it, since no teardown will run. */
static void start_failed(struct e2e_daemon *d, const char *why)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "gpuvmd did not start: %s", why);
	if (!d->exited) {
		kill(-d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	if (d->pidfd >= 0)
		close(d->pidfd);
	rm_dir(d->dir);
	free(d);
	fail_msg("%s", msg);
}

struct e2e_daemon *e2e_start(void)
{
	struct e2e_daemon *d = calloc(1, sizeof(*d));
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX], why[512];
	const char *sched = getenv("GPUVM_E2E_SCHED");
	char *argv[] = {
		(char *)"gpuvmd", (char *)"--gpu", (char *)E2E_GPU_SPEC, (char *)"--backend",
		(char *)"local", (char *)"--socket", NULL, (char *)"--foreground", NULL, NULL, NULL,
	};
	struct exec_args a;
	int64_t deadline;

	assert_non_null(d);
	signal(SIGPIPE, SIG_IGN);
	snprintf(d->dir, sizeof(d->dir), "%s/gpuvm-e2e-XXXXXX", tmp && *tmp && strlen(tmp) < 60 ? tmp : "/tmp");
	if (!mkdtemp(d->dir))
		fail_msg("mkdtemp %s: %s", d->dir, strerror(errno));
	snprintf(d->sock, sizeof(d->sock), "%s/g.sock", d->dir);
	snprintf(d->guest_sock, sizeof(d->guest_sock), "%s.guest", d->sock);
	snprintf(d->log, sizeof(d->log), "%s/gpuvmd.log", d->dir);
	argv[6] = d->sock;
	if (sched && *sched) {          /* a policy other than gpuvmd's default */
		argv[8] = (char *)"--sched";
		argv[9] = (char *)sched;
	}
	a = (struct exec_args){ e2e_bin("gpuvmd", path, sizeof(path)), argv, d->log, NULL };
	d->pid = spawn(0, exec_child, &a);
	d->pidfd = pidfd_open(d->pid, 0);
	deadline = now_ms() + E2E_READY_MS;
	for (;;) {
		struct json_object *r;

		if (waitpid(d->pid, &d->status, WNOHANG) == d->pid) {
			d->exited = true;
			e2e_dump_log(d);
			start_failed(d, "gpuvmd exited during start-up");
		}
		r = ctl_request(d->sock, "{\"op\":\"version\"}", 5000, why, sizeof(why));
		if (r) {
			json_object_put(r);
			break;
		}
		if (!ms_left(deadline)) {
			e2e_dump_log(d);
			start_failed(d, why);
		}
		/* Not listening yet: wait a little, or less if gpuvmd dies. */
		if (d->pidfd >= 0) {
			struct pollfd p = { .fd = d->pidfd, .events = POLLIN };

			poll(&p, 1, 5);
		} else {
			nap_ms(5);
		}
	}
	/* gpuvmctl answers too (the brief's readiness test), and the host starts clean. */
	{
		char *out, *err;
		int rc = e2e_ctl(d, &out, &err, "version", NULL);

		if (rc != 0)
			fail_msg("gpuvmctl version: exit %d: %s%s", rc, out, err);
		free(out);
		free(err);
	}
	e2e_assert_isolated(d);
	return d;
}

static void proc_free(struct e2e_proc *p)
{
	if (p->rd >= 0)
		close(p->rd);
	if (p->wr >= 0)
		close(p->wr);
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p);
}

void e2e_stop(struct e2e_daemon *d)
{
	char msg[512] = "", why[256], st[64];
	struct json_object *r;

	if (!d)
		return;
	/* Guests first: a leftover one is killed (its vGPU is reset on detach). */
	for (unsigned i = 0; i < E2E_MAX_PROCS; i++) {
		struct e2e_proc *p = d->procs[i];

		if (!p)
			continue;
		if (!p->reaped) {
			kill(p->pid, SIGKILL);
			if (!wait_pid(p->pid, p->pidfd, E2E_WAIT_MS, &p->status))
				snprintf(msg, sizeof(msg), "guest %s would not die", p->name);
		}
		proc_free(p);
		d->procs[i] = NULL;
	}
	if (!d->exited) {
		r = ctl_request(d->sock, "{\"op\":\"shutdown\"}", E2E_WAIT_MS, why, sizeof(why));
		if (r)
			json_object_put(r);
		else
			kill(d->pid, SIGTERM);
		if (!wait_exit(d->pid, d->pidfd, E2E_WAIT_MS))
			snprintf(msg, sizeof(msg), "gpuvmd did not exit within %d ms of shutdown", E2E_WAIT_MS);
		/* Whatever is left of the group (nothing, normally) goes now, while
		 * gpuvmd, at worst a zombie, still holds the group's id. */
		kill(-d->pid, SIGKILL);
		waitpid(d->pid, &d->status, 0);
		d->exited = true;
		if (!*msg && (!WIFEXITED(d->status) || WEXITSTATUS(d->status) != 0)) {
			describe_status(d->status, st, sizeof(st));
			snprintf(msg, sizeof(msg), "gpuvmd did not shut down cleanly: %s", st);
		}
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (*msg)
		e2e_dump_log(d);
	if (d->pidfd >= 0)
		close(d->pidfd);
	if (getenv("GPUVM_E2E_KEEP"))
		print_message("kept %s (GPUVM_E2E_KEEP)\n", d->dir);
	else
		rm_dir(d->dir);
	free(d);
	if (*msg)
		fail_msg("%s", msg);
}

/* ---- guest processes --------------------------------------------------------------------- */

static struct e2e_proc *proc_new(struct e2e_daemon *d, const char *name)
{
	struct e2e_proc *p = calloc(1, sizeof(*p));
	unsigned i;

	assert_non_null(p);
	for (i = 0; i < E2E_MAX_PROCS && d->procs[i]; i++)
		;
	if (i == E2E_MAX_PROCS)
		fail_msg("too many guest processes in one test");
	d->procs[i] = p;
	p->d = d;
	p->rd = p->wr = p->pidfd = -1;
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

static void spec_of(struct e2e_daemon *d, const char *vgpu, char *buf, size_t len)
{
	snprintf(buf, len, "local:%s@%s", vgpu, d->guest_sock);
}

struct e2e_proc *e2e_run(struct e2e_daemon *d, const char *vgpu, const char *workload,
			 const char *size, unsigned iters, unsigned ms)
{
	char name[48], path[PATH_MAX], spec[256], iters_s[16], ms_s[16];
	char *argv[16];
	unsigned n = 0;
	struct e2e_proc *p;
	struct exec_args a;

	snprintf(name, sizeof(name), "%s@%s", workload, vgpu);
	p = proc_new(d, name);
	snprintf(p->out_path, sizeof(p->out_path), "%s/run%u-%s-%s.out", d->dir, ++d->runs, vgpu, workload);
	spec_of(d, vgpu, spec, sizeof(spec));
	argv[n++] = (char *)"gpuvm-run";
	argv[n++] = (char *)workload;
	argv[n++] = (char *)"--size";
	argv[n++] = (char *)size;
	if (iters) {
		snprintf(iters_s, sizeof(iters_s), "%u", iters);
		argv[n++] = (char *)"--iters";
		argv[n++] = iters_s;
	}
	if (ms) {
		snprintf(ms_s, sizeof(ms_s), "%u", ms);
		argv[n++] = (char *)"--ms";
		argv[n++] = ms_s;
	}
	argv[n++] = (char *)"--device";
	argv[n++] = spec;
	argv[n] = NULL;
	a = (struct exec_args){ e2e_bin("gpuvm-run", path, sizeof(path)), argv, p->out_path, NULL };
	p->pid = spawn(d->pid, exec_child, &a);
	p->pidfd = pidfd_open(p->pid, 0);
	return p;
}

struct fork_args {
	struct e2e_daemon *d;
	struct e2e_proc *self;
	int rd, wr;
	const char *vgpu;
	int (*fn)(struct e2e_io *io, void *arg);
	void *arg;
};

static int fork_child(void *arg)
{
	struct fork_args *f = arg;
	static struct e2e_io io;

	/* Nothing of the test's other guests or of gpuvmd stays open here. */
	for (unsigned i = 0; i < E2E_MAX_PROCS; i++) {
		struct e2e_proc *p = f->d->procs[i];

		if (!p || p == f->self)
			continue;
		if (p->rd >= 0)
			close(p->rd);
		if (p->wr >= 0)
			close(p->wr);
		if (p->pidfd >= 0)
			close(p->pidfd);
	}
	if (f->d->pidfd >= 0)
		close(f->d->pidfd);
	close(f->self->rd);     /* the test's ends of this guest's pipes */
	close(f->self->wr);
	io.rd = f->rd;
	io.wr = f->wr;
	io.len = 0;
	spec_of(f->d, f->vgpu, io.spec, sizeof(io.spec));
	snprintf(io.name, sizeof(io.name), "%s", f->self->name);
	return f->fn(&io, f->arg);
}

struct e2e_proc *e2e_fork(struct e2e_daemon *d, const char *vgpu, const char *name,
			  int (*fn)(struct e2e_io *io, void *arg), void *arg)
{
	struct e2e_proc *p = proc_new(d, name);
	int to_child[2], to_test[2];
	struct fork_args f;

	if (pipe2(to_child, O_CLOEXEC) || pipe2(to_test, O_CLOEXEC))
		fail_msg("pipe: %s", strerror(errno));
	p->rd = to_test[0];
	p->wr = to_child[1];
	f = (struct fork_args){ d, p, to_child[0], to_test[1], vgpu, fn, arg };
	p->pid = spawn(d->pid, fork_child, &f);
	close(to_child[0]);
	close(to_test[1]);
	p->pidfd = pidfd_open(p->pid, 0);
	return p;
}

int e2e_wait(struct e2e_proc *p)
{
	if (p->reaped)
		return p->status;
	if (!wait_pid(p->pid, p->pidfd, E2E_WAIT_MS, &p->status)) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &p->status, 0);
		p->reaped = true;
		if (p->out_path[0]) {
			char *out = e2e_output(p);

			print_error("---- output of %s ----\n%s----\n", p->name, out);
			free(out);
		}
		e2e_dump_log(p->d);
		fail_msg("guest %s did not finish within %d ms", p->name, E2E_WAIT_MS);
	}
	p->reaped = true;
	return p->status;
}

void e2e_expect_exit(struct e2e_proc *p, int code)
{
	int status = e2e_wait(p);
	char st[64];

	if (WIFEXITED(status) && WEXITSTATUS(status) == code)
		return;
	describe_status(status, st, sizeof(st));
	if (p->out_path[0]) {
		char *out = e2e_output(p);

		print_error("---- output of %s ----\n%s----\n", p->name, out);
		free(out);
	}
	e2e_dump_log(p->d);
	fail_msg("guest %s: %s, expected exit %d", p->name, st, code);
}

void e2e_expect_verified(struct e2e_proc *p)
{
	char *out;

	e2e_expect_exit(p, 0);
	out = e2e_output(p);
	if (!strstr(out, ": verified"))
		fail_msg("guest %s exited 0 but did not say verified:\n%s", p->name, out);
	free(out);
}

char *e2e_output(struct e2e_proc *p)
{
	return slurp(p->out_path);
}

void e2e_kill(struct e2e_proc *p)
{
	if (p->reaped)
		return;
	kill(p->pid, SIGKILL);
	if (!wait_pid(p->pid, p->pidfd, E2E_WAIT_MS, &p->status))
		fail_msg("guest %s survived SIGKILL for %d ms", p->name, E2E_WAIT_MS);
	p->reaped = true;
}

char *e2e_recv(struct e2e_proc *p)
{
	int64_t deadline = now_ms() + E2E_WAIT_MS;

	for (;;) {
		char *nl = memchr(p->buf, '\n', p->len);
		struct pollfd pf = { .fd = p->rd, .events = POLLIN };
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - p->buf);
			char *line = strndup(p->buf, n);

			memmove(p->buf, nl + 1, p->len - n - 1);
			p->len -= n + 1;
			assert_non_null(line);
			return line;
		}
		if (p->len == sizeof(p->buf))
			fail_msg("guest %s: line too long", p->name);
		if (poll(&pf, 1, ms_left(deadline)) <= 0) {
			e2e_dump_log(p->d);
			fail_msg("guest %s said nothing within %d ms", p->name, E2E_WAIT_MS);
		}
		r = read(p->rd, p->buf + p->len, sizeof(p->buf) - p->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			char st[64];

			e2e_wait(p);
			describe_status(p->status, st, sizeof(st));
			e2e_dump_log(p->d);
			fail_msg("guest %s ended (%s) before saying what the test waits for", p->name, st);
		}
		p->len += (size_t)r;
	}
}

char *e2e_expect(struct e2e_proc *p, const char *prefix)
{
	char *line = e2e_recv(p), *rest;
	size_t n = strlen(prefix);

	if (strncmp(line, prefix, n))
		fail_msg("guest %s said '%s', expected '%s...'", p->name, line, prefix);
	rest = strdup(line + n + (line[n] == ' '));
	free(line);
	assert_non_null(rest);
	return rest;
}

static bool write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return true;
}

void e2e_send(struct e2e_proc *p, const char *fmt, ...)
{
	char *line;
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		fail_msg("out of memory");
	va_end(ap);
	ok = write_all(p->wr, line, strlen(line)) && write_all(p->wr, "\n", 1);
	if (!ok)
		fail_msg("guest %s: cannot send '%s': %s", p->name, line, strerror(errno));
	free(line);
}

/* ---- inside a forked guest ---------------------------------------------------------------- */

void e2e_die(struct e2e_io *io, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[guest %s] %s:%d: ", io->name, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(NULL);
	_exit(1);
}

void e2e_say(struct e2e_io *io, const char *fmt, ...)
{
	char *line;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		e2e_die(io, __FILE__, __LINE__, "out of memory");
	va_end(ap);
	if (!write_all(io->wr, line, strlen(line)) || !write_all(io->wr, "\n", 1))
		e2e_die(io, __FILE__, __LINE__, "the test is gone (%s)", strerror(errno));
	free(line);
}

/* Move one complete line from the input to the front of io->buf; false if none yet. */
static bool take_line(struct e2e_io *io, char *line, size_t cap)
{
	char *nl = memchr(io->buf, '\n', io->len);
	size_t n;

	if (!nl)
		return false;
	n = (size_t)(nl - io->buf);
	if (n >= cap)
		n = cap - 1;
	memcpy(line, io->buf, n);
	line[n] = '\0';
	memmove(io->buf, nl + 1, io->len - (size_t)(nl - io->buf) - 1);
	io->len -= (size_t)(nl - io->buf) + 1;
	return true;
}

static char heard_line[1024];

static bool fill(struct e2e_io *io, int timeout_ms)
{
	struct pollfd pf = { .fd = io->rd, .events = POLLIN };
	ssize_t r;

	if (io->len == sizeof(io->buf))
		e2e_die(io, __FILE__, __LINE__, "line from the test too long");
	if (poll(&pf, 1, timeout_ms) <= 0)
		return false;
	r = read(io->rd, io->buf + io->len, sizeof(io->buf) - io->len);
	if (r <= 0)
		e2e_die(io, __FILE__, __LINE__, "the test closed its pipe");
	io->len += (size_t)r;
	return true;
}

const char *e2e_hear(struct e2e_io *io)
{
	int64_t deadline = now_ms() + E2E_WAIT_MS;

	while (!take_line(io, heard_line, sizeof(heard_line)))
		if (!fill(io, ms_left(deadline)))
			e2e_die(io, __FILE__, __LINE__, "nothing from the test within %d ms", E2E_WAIT_MS);
	return heard_line;
}

void e2e_hear_exact(struct e2e_io *io, const char *want)
{
	const char *got = e2e_hear(io);

	if (strcmp(got, want))
		e2e_die(io, __FILE__, __LINE__, "the test said '%s', expected '%s'", got, want);
}

const char *e2e_heard(struct e2e_io *io)
{
	if (take_line(io, heard_line, sizeof(heard_line)) ||
	    (fill(io, 0) && take_line(io, heard_line, sizeof(heard_line))))
		return heard_line;
	return NULL;
}
